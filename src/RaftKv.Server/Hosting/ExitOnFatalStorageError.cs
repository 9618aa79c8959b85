using System.Runtime.InteropServices;
using RaftKv.Storage.IO;

namespace RaftKv.Server.Hosting;

/// <summary>
/// The server's answer to a fatal storage error (a failed fsync, an I/O error writing data): write the
/// reason to stderr and the log, then end the process at once with <see cref="ExitCode"/> — no graceful
/// shutdown, which would drain requests, flush the memtable and fsync again after the failure. The node
/// recovers at its next start like after a crash (docs/operations.md, "Fatal storage errors").
/// </summary>
/// <param name="logger">Also told (critical); its console output is asynchronous, so the stderr line
/// written first is the one guaranteed to reach the log.</param>
public sealed partial class ExitOnFatalStorageError(ILogger logger) : IFatalErrorHandler
{
    /// <summary>EX_IOERR (sysexits.h): distinct from 1 (cannot open the node) and 2 (configuration error).</summary>
    public const int ExitCode = 74;

    public void OnFatalStorageError(StorageFault fault)
    {
        ArgumentNullException.ThrowIfNull(fault);
        var line = $"raftkv: fatal storage error: {fault.Describe()}; exiting with code {ExitCode} without shutdown (restart to recover)";
        try
        {
            Console.Error.WriteLine(line); // autoflushed: written before the process ends
            LogFatal(logger, line);
            Console.Out.Flush();
        }
        finally
        {
            Terminate(line);
        }
    }

    private static void Terminate(string reason)
    {
        if (OperatingSystem.IsLinux() || OperatingSystem.IsMacOS())
        {
            ExitNow(ExitCode); // _exit(2): no atexit handlers, no ProcessExit, no host shutdown
        }

        Environment.FailFast(reason);
    }

    [LibraryImport("libc", EntryPoint = "_exit")]
    private static partial void ExitNow(int status);

    [LoggerMessage(Level = LogLevel.Critical, Message = "{Reason}")]
    private static partial void LogFatal(ILogger logger, string reason);
}
