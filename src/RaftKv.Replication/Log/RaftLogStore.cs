using RaftKv.Storage.IO;

namespace RaftKv.Replication.Log;

/// <summary>
/// The Raft log's storage: entries above the snapshot in memory (payloads up to a budget), persisted
/// in append-only segment files (format: <see cref="SegmentFormat"/>) by group flushes.
/// </summary>
/// <remarks>
/// <para><b>Contract.</b> <see cref="Append"/>, <see cref="TruncateFrom"/> and <see cref="Reset"/> change
/// the in-memory log at once and queue the change for the next <see cref="Flush"/>; nothing is durable
/// before a flush that started after the change returns (<see cref="DurableIndex"/> says how far the
/// log is). One flush covers every change queued before it: concurrent writers share its single
/// write and fsync.</para>
/// <para><b>Concurrency.</b> <c>_lock</c> guards the in-memory log (<c>_entries</c>, <c>_baseIndex</c>,
/// <c>_baseTerm</c>, <c>_pending</c>, <c>_segments</c>, the payload cache). Mutations (append, truncate,
/// reset, compact) must come from one logical writer at a time (the caller's append lock); reads may run
/// concurrently with everything. <c>_flushGate</c> serializes flushes; the file writer is touched only
/// under it, and the write and fsync run outside <c>_lock</c>, so appends proceed during a flush.</para>
/// </remarks>
internal sealed partial class RaftLogStore : IDisposable
{
    private readonly RaftLogStoreOptions _options;
    private readonly IFileSystem _fs;
    private readonly Lock _lock = new();
    private readonly Lock _flushGate = new();
    private readonly List<LogRecord> _entries = []; // _entries[i].Index == _baseIndex + 1 + i
    private readonly List<(long Sequence, string Path, long MaxIndex)> _segments = [];
    private List<PendingOp> _pending = [];
    private long _baseIndex;
    private long _baseTerm;
    private long _durableIndex;
    private long _durableCommit;
    private long _truncatedSinceCapture = long.MaxValue;
    private long _cachedBytes;
    private int _evictCursor; // entries below it have no cached payload (or are not yet written)
    private long _nextSequence;
    private long _flushes;

    // Flusher state, guarded by _flushGate; _writerPath is also written under _lock (Compact reads it there).
    private IWritableFile? _writer;
    private Exception? _failed;
    private System.Buffers.ArrayBufferWriter<byte> _buffer = new(64 << 10);
    private string? _writerPath;

    /// <summary>Set by <see cref="Compact"/> when a snapshot covers the whole segment being written: the
    /// next flush starts a new segment (read and cleared by the flusher).</summary>
    private volatile bool _rollSegment;

    /// <summary>Set by the flusher when it started a new segment for <see cref="_rollSegment"/>: the next
    /// <see cref="Compact"/> (even at the same snapshot index) deletes the covered one.</summary>
    private volatile bool _dropPending;

    /// <summary>A covered segment awaits deletion by <see cref="Compact"/>.</summary>
    public bool DropPending => _dropPending;
    private long _writerSequence;

    // The segment the next new segment follows: its sequence and the end of its valid data (-1, 0: none).
    private (long Sequence, long End) _previousSegment = (-1, 0);

    private RaftLogStore(RaftLogStoreOptions options)
    {
        _options = options;
        _fs = options.FileSystem;
    }

    /// <summary>Index of the last entry (durable or not); the snapshot index when the log is empty.</summary>
    public long LastIndex
    {
        get
        {
            lock (_lock)
            {
                return _baseIndex + _entries.Count;
            }
        }
    }

    /// <summary>Entries up to here are in the snapshot (or were discarded by a reset).</summary>
    public long BaseIndex
    {
        get
        {
            lock (_lock)
            {
                return _baseIndex;
            }
        }
    }

    /// <summary>Every entry up to this index is durable (it never exceeds <see cref="LastIndex"/>).</summary>
    public long DurableIndex => Interlocked.Read(ref _durableIndex);

    /// <summary>The largest commit index written to disk (replay goes this far at start-up).</summary>
    public long DurableCommitIndex => Interlocked.Read(ref _durableCommit);

    /// <summary>What <see cref="Open"/> dropped as a torn final write (path, offset, why), or null.</summary>
    public string? TornTail { get; private set; }

    /// <summary>Completed flushes (metrics, tests).</summary>
    public long Flushes => Interlocked.Read(ref _flushes);

    /// <summary>Term of the entry at <paramref name="index"/>; the base term at the base index; -1 if unknown.</summary>
    public long TermAt(long index)
    {
        lock (_lock)
        {
            if (index == _baseIndex)
            {
                return _baseTerm;
            }

            var i = index - _baseIndex - 1;
            return i >= 0 && i < _entries.Count ? _entries[(int)i].Term : -1;
        }
    }

    /// <summary>The record at <paramref name="index"/>, if the log holds it (above the base index).</summary>
    public LogRecord? Get(long index)
    {
        lock (_lock)
        {
            var i = index - _baseIndex - 1;
            return i >= 0 && i < _entries.Count ? _entries[(int)i] : null;
        }
    }

    /// <summary>Records <paramref name="from"/>..<paramref name="to"/> that the log holds, in order.</summary>
    public List<LogRecord> GetRange(long from, long to)
    {
        lock (_lock)
        {
            var start = Math.Max(from, _baseIndex + 1);
            var end = Math.Min(to, _baseIndex + _entries.Count);
            var list = new List<LogRecord>((int)Math.Max(0, end - start + 1));
            for (var i = start; i <= end; i++)
            {
                list.Add(_entries[(int)(i - _baseIndex - 1)]);
            }

            return list;
        }
    }

    /// <summary>Appends <paramref name="record"/>, which MUST be the next index (<see cref="LastIndex"/> + 1).</summary>
    public void Append(LogRecord record)
    {
        lock (_lock)
        {
            var expected = _baseIndex + _entries.Count + 1;
            if (record.Index != expected)
            {
                throw new InvalidOperationException($"log append at index {record.Index}, expected {expected}");
            }

            _entries.Add(record);
            _cachedBytes += record.Length;
            _pending.Add(new PendingOp(SegmentFormat.KindEntry, record, 0, 0));
        }
    }

    /// <summary>Discards entries at and above <paramref name="from"/> (which MUST be above the base index).</summary>
    public void TruncateFrom(long from)
    {
        lock (_lock)
        {
            if (from <= _baseIndex)
            {
                throw new InvalidOperationException($"cannot truncate at {from}: entries up to {_baseIndex} are in the snapshot");
            }

            var keep = (int)Math.Min(_entries.Count, from - _baseIndex - 1);
            if (keep == _entries.Count)
            {
                return;
            }

            for (var i = keep; i < _entries.Count; i++)
            {
                _cachedBytes -= _entries[i].Payload?.Length ?? 0;
            }

            _entries.RemoveRange(keep, _entries.Count - keep);
            _evictCursor = Math.Min(_evictCursor, keep);
            _pending.Add(new PendingOp(SegmentFormat.KindTruncate, null, from, 0));
            _truncatedSinceCapture = Math.Min(_truncatedSinceCapture, from);
            Interlocked.Exchange(ref _durableIndex, Math.Min(_durableIndex, from - 1));
        }
    }

    /// <summary>Discards the whole log: it continues after <paramref name="baseIndex"/> (an installed snapshot).</summary>
    public void Reset(long baseIndex, long baseTerm)
    {
        lock (_lock)
        {
            _entries.Clear();
            _cachedBytes = 0;
            _evictCursor = 0;
            _baseIndex = baseIndex;
            _baseTerm = baseTerm;
            _pending.Add(new PendingOp(SegmentFormat.KindReset, null, baseIndex, baseTerm));
            _truncatedSinceCapture = Math.Min(_truncatedSinceCapture, baseIndex + 1);
            Interlocked.Exchange(ref _durableIndex, Math.Min(_durableIndex, baseIndex));
            Interlocked.Exchange(ref _durableCommit, Math.Min(_durableCommit, baseIndex));
        }
    }

    /// <summary>
    /// The index (and its term) to compact to for a snapshot at <paramref name="snapshotIndex"/> keeping, below it, at most
    /// <paramref name="entries"/> entries holding at most <paramref name="bytes"/> of payload; never below the base.
    /// </summary>
    public (long Index, long Term) RetainedBase(long snapshotIndex, long snapshotTerm, int entries, long bytes)
    {
        lock (_lock)
        {
            var index = snapshotIndex;
            long kept = 0;
            while (index > _baseIndex && snapshotIndex - index < entries && index - _baseIndex - 1 < _entries.Count)
            {
                kept += _entries[(int)(index - _baseIndex - 1)].Length;
                if (kept > bytes)
                {
                    break;
                }

                index--;
            }

            return index == snapshotIndex ? (snapshotIndex, snapshotTerm) : (index, index == _baseIndex ? _baseTerm : _entries[(int)(index - _baseIndex - 1)].Term);
        }
    }

    /// <summary>
    /// Drops entries up to <paramref name="snapshotIndex"/> (now covered by a durable snapshot of term
    /// <paramref name="snapshotTerm"/>) and deletes segments holding nothing above it.
    /// </summary>
    public void Compact(long snapshotIndex, long snapshotTerm)
    {
        List<string> delete = [];
        lock (_lock)
        {
            if (snapshotIndex < _baseIndex || (snapshotIndex == _baseIndex && !_dropPending))
            {
                return;
            }

            _dropPending = false;
            var drop = (int)Math.Min(_entries.Count, snapshotIndex - _baseIndex);
            for (var i = 0; i < drop; i++)
            {
                _cachedBytes -= _entries[i].Payload?.Length ?? 0;
            }

            _entries.RemoveRange(0, drop);
            _evictCursor = Math.Max(0, _evictCursor - drop);
            if (drop < snapshotIndex - _baseIndex)
            {
                // The snapshot is ahead of the log (installed): nothing of the old log remains.
                _entries.Clear();
                _cachedBytes = 0;
                _evictCursor = 0;
            }

            _baseIndex = snapshotIndex;
            _baseTerm = snapshotTerm;
            while (_segments.Count > 0 && _segments[0].MaxIndex <= snapshotIndex && _segments[0].Path != _writerPath)
            {
                delete.Add(_segments[0].Path);
                _segments.RemoveAt(0);
            }

            // Everything in the segment being written is covered too: the next flush starts a new one,
            // so the next compaction can delete this one (with large segments on a small disk, the
            // space a snapshot frees would otherwise stay taken until the segment fills).
            if (_segments.Count > 0 && _segments[0].Path == _writerPath && _segments[0].MaxIndex is > 0 and var max && max <= snapshotIndex)
            {
                _rollSegment = true;
            }
        }

        foreach (var path in delete)
        {
            _fs.Delete(path);
        }
    }

    public void Dispose()
    {
        StopSpare();
        lock (_flushGate)
        {
            _writer?.Dispose();
            _writer = null;
        }
    }

    private readonly record struct PendingOp(byte Kind, LogRecord? Entry, long A, long B);
}
