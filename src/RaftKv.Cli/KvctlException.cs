namespace RaftKv.Cli;

/// <summary>An error kvctl reports as one line on stderr with <see cref="Code"/> as its exit code (no stack trace).</summary>
public sealed class KvctlException(ExitCode code, string message) : Exception(message)
{
    public ExitCode Code { get; } = code;
}
