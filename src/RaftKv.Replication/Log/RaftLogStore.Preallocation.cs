using RaftKv.Storage.IO;

namespace RaftKv.Replication.Log;

/// <summary>
/// Preallocated segments (<see cref="RaftLogStoreOptions.PreallocateSegments"/>): the next segment's file is
/// written full of zeros and synced ahead, off the flusher, so a flush overwrites blocks that already exist and
/// its sync writes the data only — no inode, size or extent update (one device write per flush instead of two
/// on ext4; no journal commit on a journalling file system). etcd's WAL preallocates its 64 MB segments for the
/// same reason; RocksDB recycles its log files.
/// </summary>
/// <remarks>
/// <para><b>Files.</b> <c>next-segment.tmp</c> while it is being filled; renamed to <c>next-segment</c> once all
/// of it (<see cref="RaftLogStoreOptions.SegmentBytes"/> zeros) is synced. When the flusher starts a segment it
/// renames <c>next-segment</c> to the segment's name and overwrites it from offset 0; the flush's directory
/// sync makes the rename durable. Neither name parses as a segment, so recovery never reads them; at
/// <see cref="Open"/> a complete <c>next-segment</c> is kept for the next segment and a <c>.tmp</c> deleted.</para>
/// <para><b>Format.</b> Unchanged (<see cref="SegmentFormat"/>): a preallocated segment is a version 2 segment
/// whose never-written space reads as zeros, which recovery takes as its end — exactly what a crash leaves of
/// an unfinished write, so the torn-write rules hold as they are.</para>
/// <para><b>Concurrency.</b> <c>_spareTask</c> is touched under <c>_flushGate</c> (and in <see cref="Dispose"/>);
/// <c>_spareReady</c> is set by the preparing task as its last step and cleared by the flusher when it takes the
/// file, so the two never touch the same file at once. Out of space while filling, the file is deleted and the
/// next segment is created the ordinary way; a disk with less than four segments free gets no spare at all.</para>
/// </remarks>
internal sealed partial class RaftLogStore
{
    internal const string SpareName = "next-segment";
    internal const string SpareTempName = "next-segment.tmp";

    /// <summary>A segment whose flushes averaged more than this gets no spare after it (see <see cref="JudgeSpare"/>).</summary>
    internal const long SpareMaxAverageFlushBytes = 32 << 10;

    private const int ZeroChunkBytes = 1 << 20;
    private const long SyncEveryBytes = 8L << 20; // a steady trickle to the device, not one 64 MiB flush

    private Task _spareTask = Task.CompletedTask;
    private volatile bool _spareReady;
    private bool _spareWorthIt = true; // flusher state (_flushGate)
    private long _segmentFlushes; // flushes into the segment being written (_flushGate)
    private volatile bool _disposed;

    /// <summary>Segments started in a preallocated file since this store opened (tests).</summary>
    public long PreallocatedSegments => Interlocked.Read(ref _preallocatedSegments);

    private long _preallocatedSegments;

    private string SparePath => Path.Combine(_options.Directory, SpareName);

    private string SpareTempPath => Path.Combine(_options.Directory, SpareTempName);

    /// <summary>At open: keeps a complete spare from before, drops a half-filled one, and starts preparing one.</summary>
    private void InitSpare()
    {
        _fs.Delete(SpareTempPath);
        if (!_options.PreallocateSegments)
        {
            _fs.Delete(SparePath);
            return;
        }

        if (_fs.Exists(SparePath) && _fs.GetLength(SparePath) == _options.SegmentBytes)
        {
            _spareReady = true; // synced before it was renamed: whole, whether or not the rename was durable
            return;
        }

        _fs.Delete(SparePath);
        lock (_flushGate)
        {
            StartSpare();
        }
    }

    /// <summary>The preallocated file renamed to <paramref name="path"/> and opened for overwriting, or null when
    /// none is ready. Flusher only (caller holds <c>_flushGate</c>).</summary>
    private IWritableFile? TakeSpare(string path)
    {
        if (!_spareReady)
        {
            return null;
        }

        _spareReady = false;
        try
        {
            _fs.Rename(SparePath, path);
        }
        catch (FileNotFoundException)
        {
            return null; // deleted by hand (harmless, like the space reserve): this segment starts empty
        }

        Interlocked.Increment(ref _preallocatedSegments);
        return _fs.OpenForOverwrite(path);
    }

    /// <summary>
    /// When a segment is closed: a spare saves one metadata write per flush and costs a segment's worth of zeros,
    /// so it pays while flushes are small (a few KB of small puts) and not while they are large (64 KiB values:
    /// with ~34 MB/s of log per node the zero fills doubled the disk's write load and cost 7–14 % of put/s,
    /// BENCHMARKS.md). The next segment gets a spare only if this one's flushes averaged at most
    /// <see cref="SpareMaxAverageFlushBytes"/>, and only if this one was closed <paramref name="full"/>: a segment a
    /// snapshot closed early (<c>Compact</c> rolls the segment it covers whole) says the log is written slowly — an
    /// idle or lightly loaded node snapshots every minute — and a spare after each would write a segment's worth of
    /// zeros per snapshot (64 MiB a minute per node) for flushes that are rare anyway. Caller holds <c>_flushGate</c>.
    /// </summary>
    private void JudgeSpare(long segmentBytes, bool full)
    {
        _spareWorthIt = full && (_segmentFlushes == 0 || segmentBytes / _segmentFlushes <= SpareMaxAverageFlushBytes);
        _segmentFlushes = 0;
    }

    /// <summary>Starts preparing the next spare unless one is ready, preallocation is off, or the last segment's
    /// flushes were too large for it to pay. Caller holds <c>_flushGate</c>.</summary>
    private void StartSpare()
    {
        if (!_options.PreallocateSegments || !_spareWorthIt || _spareReady || _disposed)
        {
            return;
        }

        if (_options.PrepareSpareInline)
        {
            PrepareSpare();
            return;
        }

        // After the previous preparation (it may still be finishing after having set _spareReady).
        _spareTask = _spareTask.ContinueWith(_ => PrepareSpare(), CancellationToken.None, TaskContinuationOptions.LongRunning, TaskScheduler.Default);
    }

    private void PrepareSpare()
    {
        if (_spareReady || _disposed)
        {
            return;
        }

        if (_options.AvailableBytes?.Invoke() is { } free && free < 4 * _options.SegmentBytes)
        {
            return; // never take a nearly full disk's last space for a file that holds nothing yet
        }

        var tmp = SpareTempPath;
        try
        {
            using (var file = _fs.Create(tmp))
            {
                var zeros = new byte[(int)Math.Min(ZeroChunkBytes, _options.SegmentBytes)];
                var unsynced = 0L;
                while (file.Length < _options.SegmentBytes)
                {
                    if (_disposed)
                    {
                        throw new OperationCanceledException("the log is closing");
                    }

                    var n = (int)Math.Min(zeros.Length, _options.SegmentBytes - file.Length);
                    file.Append(zeros.AsSpan(0, n));
                    if ((unsynced += n) >= SyncEveryBytes)
                    {
                        file.Sync();
                        unsynced = 0;
                    }
                }

                file.Sync();
            }

            _fs.Rename(tmp, SparePath);
            _spareReady = true;
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or UnauthorizedAccessException)
        {
            // Out of space, closing, or (through a fail-stop file system, which has already stopped the node) a
            // failed write: no spare, the next segment is created the ordinary way.
            TryDelete(tmp);
        }
    }

    private void TryDelete(string path)
    {
        try
        {
            _fs.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Left behind: the next Open deletes it.
        }
    }

    /// <summary>Stops a preparation in progress and waits for it (Dispose).</summary>
    private void StopSpare()
    {
        _disposed = true;
        try
        {
            _spareTask.Wait();
        }
        catch (AggregateException)
        {
            // PrepareSpare handles its own failures; nothing else can fault it.
        }
    }
}
