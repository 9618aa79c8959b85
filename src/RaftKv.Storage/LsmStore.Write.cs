using RaftKv.Storage.IO;
using RaftKv.Storage.Manifests;
using RaftKv.Storage.Memtables;
using RaftKv.Storage.Tables;

namespace RaftKv.Storage;

public sealed partial class LsmStore
{
    /// <summary>Applies one batch at <paramref name="index"/> (the apply thread). The batch goes into the mutable
    /// memtable under <c>_lock</c>, which <see cref="Rotate"/> also takes: a flush started on another thread (the
    /// snapshot loop's checkpoint, a physical compaction, an admin flush) freezes the memtable only between batches,
    /// never under a batch half added (that threw "memtable is frozen" and failed the node, or let an entry miss the
    /// flushed table while the frozen memtable was being written).</summary>
    public void Apply(long index, IReadOnlyList<WriteOp> ops)
    {
        ThrowIfBackgroundFailed();
        if (index <= AppliedIndex)
        {
            return; // replay of something already in the store
        }

        bool full;
        lock (_lock)
        {
            var mem = _mem;
            for (var i = 0; i < ops.Count; i++)
            {
                var op = ops[i];
                if (op.Key.IsEmpty)
                {
                    throw new ArgumentException("empty key", nameof(ops));
                }

                if (op.Kind == WriteOpKind.Put)
                {
                    mem.Add(op.Key.Span, op.Value.Span, op.ValueTail.Span, index, op.ExpiresAtUnixMs, tombstone: false);
                }
                else
                {
                    mem.Add(op.Key.Span, [], [], index, 0, tombstone: true);
                }
            }

            mem.Advance(index);
            Interlocked.Exchange(ref _appliedIndex, index); // publishes the batch to readers atomically
            full = mem.ApproximateBytes >= _options.MemtableMaxBytes || mem.Count >= _options.MemtableMaxEntries;
        }

        if (full)
        {
            Rotate(stall: true);
        }
    }

    /// <summary>Marks <paramref name="index"/> applied without writes (under <c>_lock</c>, like <see cref="Apply"/>).</summary>
    public void Advance(long index)
    {
        lock (_lock)
        {
            if (index <= AppliedIndex)
            {
                return;
            }

            _mem.Advance(index);
            Interlocked.Exchange(ref _appliedIndex, index);
        }
    }

    public async Task FlushAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfBackgroundFailed();
        if (AppliedIndex > DurableIndex || _immutables.Count > 0)
        {
            Rotate(stall: false);
        }

        await FlushImmutablesAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Freezes the current memtable (if it has anything) and queues it for flush.</summary>
    private void Rotate(bool stall)
    {
        lock (_lock)
        {
            if (_mem.MaxIndex == 0 || (_mem.Count == 0 && _mem.MaxIndex <= DurableIndex))
            {
                return;
            }

            _mem.Freeze();
            _immutables = [.. _immutables, _mem];
            var next = new Memtable(++_nextMemtableId);
            next.Advance(_immutables[^1].MaxIndex); // before the apply thread can see it
            _mem = next;
            PublishState();
        }

        _flushSignal.Release();
        if (stall && _options.BackgroundWork)
        {
            var spins = 0;
            while (Volatile.Read(ref _immutables).Count > _options.MaxImmutableMemtables && !_shutdown.IsCancellationRequested)
            {
                ThrowIfBackgroundFailed();
                if (spins++ == 0)
                {
                    Interlocked.Increment(ref _counters.Stalls);
                }

                Thread.Sleep(1); // write stall: back-pressure until the flusher catches up
            }
        }
        else if (!_options.BackgroundWork && stall)
        {
            FlushImmutablesAsync(CancellationToken.None).GetAwaiter().GetResult();
        }
    }

    /// <summary>Writes every frozen memtable, oldest first, as L0 tables (one per key space) and makes them durable.</summary>
    private async Task FlushImmutablesAsync(CancellationToken cancellationToken)
    {
        await _manifestLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            while (true)
            {
                Memtable? imm;
                lock (_lock)
                {
                    imm = _immutables.Count > 0 ? _immutables[0] : null;
                }

                if (imm is null)
                {
                    return;
                }

                FlushOne(imm);
            }
        }
        finally
        {
            _manifestLock.Release();
        }
    }

    private void FlushOne(Memtable imm)
    {
        var edit = new ManifestEdit { DurableIndex = imm.MaxIndex };
        var readers = imm.Count > 0 ? WriteFlushTables(imm, edit) : [];
        try
        {
            _manifest.Append(edit); // durable before the memtable is dropped
        }
        catch (DiskFullException e)
        {
            // A manifest record may now be torn in the middle of the log: never append after it.
            throw ManifestWriteFailed(e);
        }
        lock (_lock)
        {
            if (readers.Count > 0)
            {
                _tables = _tables.With(readers.Select(r => (0, r)), new HashSet<long>());
            }

            _immutables = _immutables.Where(m => m != imm).ToList();
            PublishState();
        }

        Interlocked.Increment(ref _counters.Flushes);
        LogFlushed(_logger, imm.Id, readers.Count, imm.Count, readers.Sum(r => r.Size), imm.MaxIndex);
    }

    /// <summary>Writes <paramref name="imm"/> as L0 tables, one per key space between
    /// <see cref="LsmOptions.PartitionBoundaries"/> that holds entries, each file durable (fsynced, directory
    /// synced); adds their records to <paramref name="edit"/>. On failure every file it wrote is deleted.</summary>
    private List<TableReader> WriteFlushTables(Memtable imm, ManifestEdit edit)
    {
        var boundaries = new TableBoundaries(_options.PartitionBoundaries);
        var outputs = new List<(ManifestTable Record, TableReader Reader)>();
        TableWriter? writer = null;
        Blobs.BlobWriter? blob = null; // values of at least BlobMinBytes, separated (one value file per flush)
        long? blobSize = null;
        Span<byte> pointer = stackalloc byte[Blobs.BlobPointer.MaxEncodedLength];
        long id = 0;
        try
        {
            foreach (var e in imm.Newest())
            {
                if (boundaries.Crosses(e.KeySpan) && writer is not null)
                {
                    outputs.Add(FinishOutput(writer, id, 0));
                    writer = null;
                }

                if (writer is null)
                {
                    id = _manifest.NextFileNumber++;
                    writer = new TableWriter(_fs, TablePath(_dir, id), _options.BlockSize, _options.Compression);
                }

                if (IsSeparated(e.KeySpan, e.ValueSpan.Length, e.Tombstone))
                {
                    blob ??= _blobs.Create();
                    var n = blob.Append(e.ValueSpan).Encode(pointer);
                    writer.Add(e.KeySpan, pointer[..n], e.Version, e.ExpiresAtUnixMs, tombstone: false, blobRef: true);
                }
                else
                {
                    writer.Add(e.KeySpan, e.ValueSpan, e.Version, e.ExpiresAtUnixMs, e.Tombstone);
                }
            }

            if (writer is not null)
            {
                outputs.Add(FinishOutput(writer, id, 0));
                writer = null;
            }

            blobSize = blob?.Finish(); // durable before the manifest edit names a table pointing into it
        }
        catch (DiskFullException)
        {
            // Out of space: the memtable stays frozen (its entries readable, the manifest untouched),
            // the partial tables go, and the background loop retries later.
            DiscardOutputs(writer, outputs);
            _fs.Delete(TablePath(_dir, id));
            throw;
        }
        finally
        {
            if (blob is not null)
            {
                _blobs.ReleaseCreator(blob, blobSize); // the tables hold it now; abandoned (deleted) if the flush failed
            }
        }

        _fs.SyncDirectory(_dir);
        edit.Added.AddRange(outputs.Select(o => o.Record));
        Interlocked.Add(ref _counters.FlushBytesWritten, outputs.Sum(o => o.Record.Size) + (blobSize ?? 0));
        return outputs.Select(o => o.Reader).ToList();
    }

    /// <summary>Whether a flush writes the value of <paramref name="length"/> bytes under <paramref name="key"/> to a
    /// value file (<see cref="LsmOptions.BlobMinBytes"/>, <see cref="LsmOptions.ValueFileRules"/>) instead of into the
    /// table.</summary>
    private bool IsSeparated(ReadOnlySpan<byte> key, int length, bool tombstone)
    {
        if (tombstone || !_separateValues || _options.BlobMinBytes <= 0)
        {
            return false;
        }

        if (length >= _options.BlobMinBytes)
        {
            return true;
        }

        foreach (var rule in _options.ValueFileRules)
        {
            if (key.StartsWith(rule.Prefix))
            {
                return length >= rule.MinBytes;
            }
        }

        return false;
    }

    private volatile bool _separateValues;

    public bool SeparateValues
    {
        get => _separateValues;
        set => _separateValues = value;
    }

    private async Task BackgroundLoopAsync()
    {
        var token = _shutdown.Token;
        var more = false;
        while (!token.IsCancellationRequested)
        {
            try
            {
                // Rounds follow each other while compactions are due (before, a round ran per flush signal or per
                // second: a tree left behind by a load took one second per step to settle, keeping tables local).
                if (!more)
                {
                    await _flushSignal.WaitAsync(TimeSpan.FromSeconds(1), token).ConfigureAwait(false);
                }

                more = false;
                await FlushImmutablesAsync(token).ConfigureAwait(false);
                more = await CompactOnceAsync(LogicalClockUnixMs, token).ConfigureAwait(false);
                Interlocked.Exchange(ref _diskFullLogged, 0);
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                return;
            }
            catch (RemoteTierUnavailableException e)
            {
                LogBackgroundFailed(_logger, e); // compaction over archived tables retries later
            }
            catch (DiskFullException e)
            {
                // A table could not be written: nothing changed (memtables kept, manifest untouched);
                // retried on the next round, once space is freed. Logged once per episode.
                if (Interlocked.Exchange(ref _diskFullLogged, 1) == 0)
                {
                    LogBackgroundFailed(_logger, e);
                }

                continue;
            }
            catch (Exception e)
            {
                _backgroundError = e;
                LogBackgroundFailed(_logger, e);
                return;
            }
        }
    }

    private int _diskFullLogged;

    public bool OutOfSpace => Volatile.Read(ref _diskFullLogged) != 0;

    /// <summary>
    /// ENOSPC while appending a manifest record: the record may be torn in the middle of the manifest and
    /// no record may ever follow it, so it is a fatal storage error (the node fail-stops; recovery reopens
    /// the manifest, whose torn tail is dropped). A store not wrapped for fail-stop is failed for good.
    /// </summary>
    private IOException ManifestWriteFailed(DiskFullException e)
        => (IOException?)FailStopFileSystem.TryFail(_fs, new StorageFault(_manifest.FilePath, StorageOperation.Write, e))
            ?? new IOException("the manifest could not be written (no space left on device); the store must be reopened", e);

    private void ThrowIfBackgroundFailed()
    {
        if (_backgroundError is { } e)
        {
            throw new IOException($"storage background work failed: {e.Message}", e);
        }
    }
}
