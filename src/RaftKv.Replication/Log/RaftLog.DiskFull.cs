using Microsoft.Extensions.Logging;
using RaftKv.Storage.IO;

namespace RaftKv.Replication.Log;

/// <summary>
/// Out of space (ENOSPC) on the Raft log. Not fatal, unlike every other flush failure: the failed batch
/// stays queued in the store (<see cref="RaftLogStore.Flush"/>), nothing unflushed counts as durable,
/// so nothing is acknowledged that is not on disk. While the disk is full <see cref="DiskFull"/> is set
/// (the leader refuses new proposals that add data with it at once, and the node raises its NOSPACE
/// alarm: KvNode.Space.cs), and the reserve file is released. The flusher retries with backoff (50 ms
/// doubling to 1 s), asked or not: the released reserve makes room for the queued batch and for what
/// frees space — the NOSPACE alarm itself, deletes, compaction — which are still proposed. Before each
/// retry it tries to recreate the reserve (possible only with twice its size free: proof that space is
/// back); <see cref="DiskFull"/> clears at the first successful flush after the reserve is back.
/// </summary>
internal sealed partial class RaftLog
{
    /// <summary>Size of <c>{DataDir}/space.reserve</c>.</summary>
    public const long ReserveBytes = 4L << 20;

    private static readonly TimeSpan MinRetry = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan MaxRetry = TimeSpan.FromSeconds(1);
    private DiskFullException? _diskFull;
    private TimeSpan _retryDelay = MinRetry;

    /// <summary>The ENOSPC error while the log cannot be written (null when it can).</summary>
    public DiskFullException? DiskFull => Volatile.Read(ref _diskFull);

    /// <summary>The reserve kept next to the log directory (null: none).</summary>
    public DiskSpaceReserve? Reserve { get; init; }

    private static DiskSpaceReserve? OpenReserve(IFileSystem fs, string logDirectory, ILogger logger)
    {
        var dataDir = Path.GetDirectoryName(Path.TrimEndingDirectorySeparator(logDirectory));
        if (string.IsNullOrEmpty(dataDir))
        {
            return null;
        }

        Func<long?>? free = FailStopFileSystem.Unwrap(fs) is PhysicalFileSystem ? () => DiskSpaceReserve.AvailableBytesOf(dataDir) : null;
        var reserve = new DiskSpaceReserve(fs, Path.Combine(dataDir, "space.reserve"), ReserveBytes, free);
        if (!reserve.TryRestore())
        {
            LogReserveMissing(logger, reserve.Path);
        }

        return reserve;
    }

    private void OnDiskFull(DiskFullException e)
    {
        var released = Reserve?.Release() ?? false; // every time: a retry recreated it first
        if (Interlocked.Exchange(ref _diskFull, e) is null)
        {
            LogDiskFull(_logger, released, e);
        }
    }

    private void OnFlushSucceeded()
    {
        if (DiskFull is null)
        {
            return;
        }

        if (Reserve is { Held: false })
        {
            return; // written into the released reserve: the disk still counts as full
        }

        if (Interlocked.Exchange(ref _diskFull, null) is not null)
        {
            _retryDelay = MinRetry;
            LogSpaceBack(_logger);
        }
    }

    /// <summary>Flusher thread, while out of space: backs off, and tries to recreate the reserve.</summary>
    private void TryRestoreReserve()
    {
        _retryDelay = TimeSpan.FromTicks(Math.Min(MaxRetry.Ticks, _retryDelay.Ticks * 2));
        try
        {
            Reserve?.TryRestore();
        }
        catch (IOException)
        {
            // still full (or the reserve's directory is unwritable): the next retry tries again
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Raft log out of disk space (reserve released: {Released}); writes are refused until space is freed, then resume")]
    private static partial void LogDiskFull(ILogger logger, bool released, Exception error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Disk space is back: the Raft log is writable again")]
    private static partial void LogSpaceBack(ILogger logger);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Cannot create the disk space reserve {Path}: the disk is full; it is retried when the log next runs out of space")]
    private static partial void LogReserveMissing(ILogger logger, string path);
}
