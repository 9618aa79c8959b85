using Microsoft.Extensions.Logging;
using RaftKv.Storage.IO;

namespace RaftKv.Replication.Log;

/// <summary>
/// Out of space (ENOSPC) on the Raft log. Not fatal, unlike every other flush failure: the failed batch
/// stays queued in the store (<see cref="RaftLogStore.Flush"/>), nothing unflushed counts as durable,
/// so nothing is acknowledged that is not on disk. While the disk is full <see cref="DiskFull"/> is set
/// (the leader refuses new proposals with it at once), the reserve file is released so the node's term
/// and vote and new segment headers can still be written, and the flusher retries with backoff: first it
/// recreates the reserve (possible only with twice its size free: proof that space is back), then it
/// writes the queued batch.
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
        if (Interlocked.Exchange(ref _diskFull, null) is not null)
        {
            _retryDelay = MinRetry;
            LogSpaceBack(_logger);
        }
    }

    /// <summary>Flusher thread: sleeps with backoff until the reserve can be recreated, then asks for a
    /// flush (which clears <see cref="DiskFull"/> when it succeeds). False when the log is closing.</summary>
    private bool WaitForSpace(CancellationToken token)
    {
        while (true)
        {
            if (token.WaitHandle.WaitOne(_retryDelay))
            {
                return false;
            }

            _retryDelay = TimeSpan.FromTicks(Math.Min(MaxRetry.Ticks, _retryDelay.Ticks * 2));
            bool restored;
            try
            {
                restored = Reserve?.TryRestore() ?? true;
            }
            catch (IOException)
            {
                restored = false;
            }

            if (restored)
            {
                RequestFlush();
                return true;
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Raft log out of disk space (reserve released: {Released}); writes are refused until space is freed, then resume")]
    private static partial void LogDiskFull(ILogger logger, bool released, Exception error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Disk space is back: the Raft log is writable again")]
    private static partial void LogSpaceBack(ILogger logger);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Cannot create the disk space reserve {Path}: the disk is full; it is retried when the log next runs out of space")]
    private static partial void LogReserveMissing(ILogger logger, string path);
}
