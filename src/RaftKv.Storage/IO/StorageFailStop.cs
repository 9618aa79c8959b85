using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace RaftKv.Storage.IO;

/// <summary>
/// A node's fail-stop state: the first fatal storage error (<see cref="Fault"/>), handed once to the
/// <see cref="IFatalErrorHandler"/>; afterwards every write and fsync through the node's
/// <see cref="FailStopFileSystem"/> is refused. Which errors are fatal: see <see cref="FailStopFileSystem"/>.
/// </summary>
/// <remarks>Thread-safe. One per node (the handler may be shared by the whole process).</remarks>
/// <param name="handler">What to do about the fault (null: log it and only refuse further writes).</param>
/// <param name="logger">Where the fault is logged (critical) before the handler runs.</param>
public sealed partial class StorageFailStop(IFatalErrorHandler? handler = null, ILogger? logger = null)
{
    private readonly ILogger _logger = logger ?? NullLogger.Instance;
    private StorageFault? _fault;

    /// <summary>The first fatal error, or null while the storage is healthy.</summary>
    public StorageFault? Fault => Volatile.Read(ref _fault);

    /// <summary>
    /// Records <paramref name="fault"/> (the first one wins), logs it, runs the handler once, and
    /// returns the exception the caller MUST throw instead of going on.
    /// </summary>
    public StorageFailStopException Fail(StorageFault fault)
    {
        ArgumentNullException.ThrowIfNull(fault);
        if (Interlocked.CompareExchange(ref _fault, fault, null) is { } earlier)
        {
            return new StorageFailStopException(earlier, first: false);
        }

        LogFatal(_logger, fault.Path, fault.Operation, fault.Cause);
        handler?.OnFatalStorageError(fault);
        return new StorageFailStopException(fault, first: true);
    }

    /// <summary>Throws <see cref="StorageFailStopException"/> once a fault was recorded.</summary>
    public void ThrowIfFailed()
    {
        if (Fault is { } fault)
        {
            throw new StorageFailStopException(fault, first: false);
        }
    }

    [LoggerMessage(Level = LogLevel.Critical, Message = "Fatal storage error: {Operation} of '{Path}' failed; the node fail-stops (nothing after it is trusted as durable, nothing is retried)")]
    private static partial void LogFatal(ILogger logger, string path, StorageOperation operation, Exception error);
}
