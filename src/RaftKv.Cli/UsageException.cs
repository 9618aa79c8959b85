namespace RaftKv.Cli;

/// <summary>Bad command line: printed with a usage hint, exit code 2 (<see cref="ExitCode.Usage"/>).</summary>
public sealed class UsageException(string message) : Exception(message);
