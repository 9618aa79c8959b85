using System.Buffers;
using System.Diagnostics;
using RaftKv.Storage.IO;

namespace RaftKv.Replication.Log;

internal sealed partial class RaftLogStore
{
    /// <summary>
    /// Writes every change queued so far (plus a commit record up to <paramref name="commitIndex"/> when
    /// it advanced) with one write, then fsyncs. When it returns, the log as it was when the flush
    /// started is durable and <see cref="DurableIndex"/> says so. Flushes are serialized; callers
    /// that arrive during a flush wait for it and then flush what queued meanwhile.
    /// </summary>
    /// <exception cref="DiskFullException">Out of space writing or fsyncing the batch: nothing of it
    /// counts as durable, its changes stay queued (the next flush writes them again), and writing
    /// continues in a new segment whose header records where the valid data of this one ends, so the
    /// partial batch is never read. The store stays usable; retry once space is freed.</exception>
    /// <exception cref="IOException">Any other failure: the store is failed for good (reopen it).</exception>
    public void Flush(long commitIndex)
    {
        lock (_flushGate)
        {
            // After a failed flush nothing can be trusted: its batch is gone from the queue, and
            // fsync errors are not repeatable (the kernel may have dropped the dirty pages). Every
            // later flush fails too; the node must restart and recover from what is on disk.
            if (_failed is { } failed)
            {
                throw new IOException("an earlier Raft log flush failed; the log must be reopened", failed);
            }

            try
            {
                if (FlushCore(commitIndex))
                {
                    Interlocked.Increment(ref _flushes);
                }
            }
            catch (DiskFullException)
            {
                throw; // FlushCore put the batch back and abandoned the segment: retry later
            }
            catch (Exception e)
            {
                // Not ENOSPC: the log is failed for good (its batch and fsync state are unknown). Through a
                // fail-stop file system this is the node's fatal error (no-op when the file system raised it).
                _failed = e;
                if (e is IOException or UnauthorizedAccessException
                    && FailStopFileSystem.TryFail(_fs, new StorageFault(_writerPath ?? _options.Directory, StorageOperation.Write, e)) is { } fatal)
                {
                    _failed = fatal;
                    throw fatal;
                }

                throw;
            }
        }
    }

    // Caller holds _flushGate. False when there was nothing to write.
    private bool FlushCore(long commitIndex)
    {
        List<PendingOp> ops;
        long upTo, commit;
        lock (_lock)
        {
            ops = _pending;
            _pending = [];
            upTo = _baseIndex + _entries.Count;
            _truncatedSinceCapture = long.MaxValue;
            commit = Math.Min(commitIndex, upTo);
        }

        var writeCommit = commit > Interlocked.Read(ref _durableCommit);
        if (ops.Count == 0 && !writeCommit)
        {
            return false;
        }

        var buffer = _buffer;
        buffer.ResetWrittenCount(); // reused: no zeroing of a fresh buffer per flush
        var newSegment = false;
        if (_writer is null || _writer.Length >= _options.SegmentBytes || _rollSegment)
        {
            _dropPending |= _rollSegment;
            _rollSegment = false;
            if (_writer is not null)
            {
                _previousSegment = (_writerSequence, _writer.Length); // every batch in it is synced
                JudgeSpare(_writer.Length, full: _writer.Length >= _options.SegmentBytes); // RaftLogStore.Preallocation.cs
                _writer.Dispose();
                _writer = null;
            }

            var sequence = _nextSequence++;
            var path = Path.Combine(_options.Directory, SegmentFormat.SegmentName(sequence));
            try
            {
                _writer = TakeSpare(path) ?? _fs.Create(path); // RaftLogStore.Preallocation.cs
            }
            catch (DiskFullException)
            {
                Requeue(ops);
                _fs.Delete(path);
                throw;
            }

            _writerSequence = sequence;

            // Names the segment before it and where that one's valid data ends: recovery then never reads
            // past it (a torn tail stays dropped) and knows any damage before it is corruption.
            SegmentFormat.WriteHeader(buffer, sequence, _previousSegment.Sequence, _previousSegment.End);
            newSegment = true;
            lock (_lock)
            {
                // Together, so Compact never sees the segment list and the segment being written disagree.
                _writerPath = path;
                _segments.Add((sequence, path, 0));
            }
        }

        var fileOffset = _writer.Length;
        var positions = new List<(LogRecord Record, long Offset)>(ops.Count);
        long maxIndex = 0;
        var batchAt = SegmentFormat.BeginBatch(buffer); // the whole flush is one batch: one write, one fsync
        foreach (var op in ops)
        {
            if (op.Kind == SegmentFormat.KindEntry)
            {
                var r = op.Entry!;
                var at = buffer.WrittenCount;
                var rel = SegmentFormat.WriteEntry(buffer, r, r.Payload ?? throw new InvalidOperationException($"entry {r.Index} lost its payload before it was written"));
                positions.Add((r, fileOffset + at + rel));
                maxIndex = Math.Max(maxIndex, r.Index);
            }
            else
            {
                SegmentFormat.WriteMarker(buffer, op.Kind, op.A, op.B);
            }
        }

        if (writeCommit)
        {
            SegmentFormat.WriteMarker(buffer, SegmentFormat.KindCommit, commit);
        }

        SegmentFormat.FinishBatch(buffer, batchAt, ops.Count + (writeCommit ? 1 : 0), _writerSequence, fileOffset + batchAt);

        // MUST be durable before any entry of this batch counts as durable.
        try
        {
            _segmentFlushes++;
            _writer.Append(buffer.WrittenSpan);
            var syncStarted = Stopwatch.GetTimestamp();
            _writer.Sync();
            RaftLogMetrics.FsyncDuration.Record(Stopwatch.GetElapsedTime(syncStarted).TotalSeconds);
        }
        catch (DiskFullException)
        {
            AbandonAfterDiskFull(ops, newSegment, fileOffset);
            throw;
        }
        finally
        {
            if (buffer.Capacity > 4 << 20)
            {
                _buffer = new ArrayBufferWriter<byte>(64 << 10); // do not keep a huge batch's buffer
            }
        }

        if (newSegment)
        {
            _fs.SyncDirectory(_options.Directory);
            StartSpare(); // the file for the segment after this one
        }

        lock (_lock)
        {
            foreach (var (r, offset) in positions)
            {
                r.Segment = _writerPath;
                r.PayloadOffset = offset;
            }

            var last = _segments[^1];
            _segments[^1] = (last.Sequence, last.Path, Math.Max(last.MaxIndex, maxIndex));

            // A truncation or reset while this flush ran lowered the durable index already; it
            // MUST NOT rise past it (those slots now hold newer, unwritten entries).
            var durable = Math.Min(upTo, _truncatedSinceCapture == long.MaxValue ? upTo : _truncatedSinceCapture - 1);
            Interlocked.Exchange(ref _durableIndex, Math.Max(Interlocked.Read(ref _durableIndex), durable));
            if (writeCommit)
            {
                Interlocked.Exchange(ref _durableCommit, Math.Max(Interlocked.Read(ref _durableCommit), commit));
            }

            EvictPayloads();
        }

        return true;
    }

    /// <summary>
    /// After ENOSPC on a batch: its changes go back to the front of the queue (in order, before what was
    /// queued meanwhile), and the segment is never written again. Its valid data ends where the batch
    /// began (<paramref name="batchOffset"/>; everything before was fsynced), which the next segment's
    /// header records, so recovery never reads the partial batch. A segment this flush created holds
    /// nothing valid: it is deleted (were it to survive a crash, the next segment's header names the
    /// segment before it, and recovery skips it).
    /// </summary>
    private void AbandonAfterDiskFull(List<PendingOp> ops, bool newSegment, long batchOffset)
    {
        var writer = _writer!;
        _writer = null;
        JudgeSpare(batchOffset, full: false); // out of space: no zeros to spare
        writer.Dispose();
        string? delete = null;
        Requeue(ops);
        lock (_lock)
        {
            if (newSegment)
            {
                delete = _writerPath;
                _segments.RemoveAt(_segments.Count - 1);
            }
            else
            {
                _previousSegment = (_writerSequence, batchOffset);
            }

            _writerPath = null;
        }

        if (delete is not null)
        {
            _fs.Delete(delete);
        }
    }

    // Puts a failed flush's changes back in front of those queued since it captured them.
    private void Requeue(List<PendingOp> ops)
    {
        lock (_lock)
        {
            ops.AddRange(_pending);
            _pending = ops;
        }
    }

    /// <summary>The payload of <paramref name="record"/>, from memory or read back from its segment.</summary>
    public byte[] ReadPayload(LogRecord record)
    {
        if (record.Payload is { } cached)
        {
            return cached;
        }

        var path = record.Segment ?? throw new InvalidOperationException($"entry {record.Index} has neither a payload nor a segment");
        var buffer = new byte[record.Length];
        using var file = _fs.OpenRead(path);
        file.ReadExactly(record.PayloadOffset, buffer);
        return buffer;
    }

    // Caller holds _lock. Only written entries lose their payload (they can be read back).
    private void EvictPayloads()
    {
        while (_cachedBytes > _options.PayloadCacheBytes && _evictCursor < _entries.Count)
        {
            var r = _entries[_evictCursor];
            if (r.Segment is null)
            {
                break;
            }

            _cachedBytes -= r.Payload?.Length ?? 0;
            r.Payload = null;
            _evictCursor++;
        }
    }
}
