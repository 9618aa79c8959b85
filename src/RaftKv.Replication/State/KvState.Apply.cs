using System.Buffers;
using System.Buffers.Binary;
using DotNext.IO;
using DotNext.Net.Cluster.Consensus.Raft;
using DotNext.Net.Cluster.Consensus.Raft.StateMachine;
using RaftKv.Replication.Api;
using RaftKv.Replication.Commands;
using RaftKv.Storage;

namespace RaftKv.Replication.State;

internal sealed partial class KvState
{
    /// <summary>How long a request id is remembered for exactly-once retries (logical time).</summary>
    public static readonly TimeSpan RequestIdRetention = TimeSpan.FromMinutes(10);

    /// <summary>DotNext's entry point (used by its <c>WriteAheadLog</c>); <see cref="Log.RaftLog"/> calls the methods below.</summary>
    public ValueTask<long> ApplyAsync(LogEntry entry, CancellationToken token)
    {
        if (entry.IsSnapshot)
        {
            return InstallSnapshotAsync(entry, entry.Index, token);
        }

        TryGetPayload(entry, out var payload);
        return ApplyEntryAsync(entry.Index, entry.Term, entry.IsConfiguration, payload, entry.Context, token);
    }

    /// <summary>
    /// Applies the committed entry at <paramref name="index"/>. Called by one applier at a time, in index
    /// order; completes the proposer's <see cref="ApplyResult"/> when <paramref name="context"/> is one.
    /// </summary>
    public async ValueTask<long> ApplyEntryAsync(long index, long term, bool isConfiguration, byte[] payload, object? context, CancellationToken token)
    {
        RecordTerm(index, term);
        var holder = context as ApplyResult;
        if (isConfiguration || payload.Length is 0)
        {
            _store.Advance(index);
            return index;
        }

        var command = CommandCodec.Decode(payload); // unknown versions throw: the node stops applying rather than guess
        try
        {
            var result = await ApplyUntilStoreReachableAsync(index, command, token).ConfigureAwait(false);
            holder?.Set(result);
        }
        catch (Exception e) when (e is not OperationCanceledException && holder is not null)
        {
            holder.Fail(e);
            throw;
        }

        return index;
    }

    /// <summary>
    /// Applies one command, waiting out an unreachable object store. An entry's outcome must not
    /// depend on whether S3 answered (every replica must reach the same result), and an exception
    /// here would stop DotNext's applier for good, so a read of an archived table that cannot be
    /// fetched blocks this node's applier and retries with backoff (1 s → 30 s) until the store is
    /// back. Nothing of a failed attempt is visible: the command's store batch is written only at its
    /// end, so a retry starts from the same state. The proposer meanwhile times out with "outcome
    /// unknown"; other replicas keep applying and serving.
    /// </summary>
    private async ValueTask<TxnResult> ApplyUntilStoreReachableAsync(long index, KvCommand command, CancellationToken token)
    {
        var delay = TimeSpan.FromSeconds(1);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await ApplyCommandAsync(index, command, token).ConfigureAwait(false);
            }
            catch (RemoteTierUnavailableException e)
            {
                Interlocked.Increment(ref ApplyStalls);
                LogApplyStalled(_logger, index, attempt, delay, e.Message);
                await Task.Delay(delay, _time, token).ConfigureAwait(false);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(30).Ticks));
            }
        }
    }

    private static bool TryGetPayload(in LogEntry entry, out byte[] payload)
    {
        if (entry.TryGetPayload(out var seq))
        {
            payload = seq.ToArray();
            return payload.Length > 0;
        }

        payload = [];
        return false;
    }

    private async ValueTask<TxnResult> ApplyCommandAsync(long index, KvCommand command, CancellationToken token)
    {
        var clock = Math.Max(LogicalClock, command.TimestampUnixMs);
        Interlocked.Exchange(ref _clock, clock);
        _store.LogicalClockUnixMs = clock;
        var clockOp = WriteOp.Put(ReservedKeys.Clock, BitConverter.GetBytes(clock));
        if (index <= _store.AppliedIndex)
        {
            return new TxnResult(index, true, []); // replay of an entry already in the store
        }

        if (command.Kind == CommandKind.Tick || command.Txn is null)
        {
            _store.Apply(index, [clockOp]);
            return new TxnResult(index, true, []);
        }

        if (command.RequestId is { } rid && await _store.GetAsync(ReservedKeys.Request(rid), clock, token).ConfigureAwait(false) is { } seen)
        {
            // A retry of a request that already committed: answer with the original outcome.
            _store.Apply(index, [clockOp]);
            var span = seen.Value.Span;
            return new TxnResult(BinaryPrimitives.ReadInt64LittleEndian(span), span[8] != 0, []);
        }

        var txn = command.Txn;
        var succeeded = true;
        foreach (var c in txn.Compares)
        {
            if (!await EvaluateAsync(c, clock, token).ConfigureAwait(false))
            {
                succeeded = false;
                break;
            }
        }

        var ops = new List<WriteOp>();
        var events = new List<WatchEvent>();
        var results = new List<OpResult>();
        foreach (var op in succeeded ? txn.Success : txn.Failure)
        {
            results.Add(await ApplyOpAsync(op, index, clock, ops, events, token).ConfigureAwait(false));
        }

        ops.Add(clockOp);
        if (command.RequestId is { } id)
        {
            var record = new byte[9];
            BinaryPrimitives.WriteInt64LittleEndian(record, index);
            record[8] = succeeded ? (byte)1 : (byte)0;
            ops.Add(WriteOp.Put(ReservedKeys.Request(id), record, clock + (long)RequestIdRetention.TotalMilliseconds));
        }

        _store.Apply(index, ops);
        Watch.Publish(events, index);
        return new TxnResult(index, succeeded, results);
    }

    private async ValueTask<bool> EvaluateAsync(KvCompare c, long clock, CancellationToken token)
    {
        var current = await _store.GetAsync(c.Key, clock, token).ConfigureAwait(false);
        int cmp;
        switch (c.Target)
        {
            case CompareTarget.Exists:
                return (current is not null) == c.Exists;
            case CompareTarget.Version:
                cmp = (current?.Version ?? 0).CompareTo(c.Version);
                break;
            case CompareTarget.Value:
                if (current is null)
                {
                    return c.Op == CompareOp.NotEqual;
                }

                cmp = current.Value.Value.Span.SequenceCompareTo(c.Value ?? []);
                break;
            default:
                return false;
        }

        return c.Op switch
        {
            CompareOp.Equal => cmp == 0,
            CompareOp.NotEqual => cmp != 0,
            CompareOp.Greater => cmp > 0,
            CompareOp.Less => cmp < 0,
            _ => false,
        };
    }

    private async ValueTask<OpResult> ApplyOpAsync(KvOp op, long index, long clock, List<WriteOp> ops, List<WatchEvent> events, CancellationToken token)
    {
        switch (op.Kind)
        {
            case KvOpKind.Put:
                var prev = op.PrevKv ? await _store.GetAsync(op.Key, clock, token).ConfigureAwait(false) : null;
                var expires = op.TtlMs > 0 ? clock + op.TtlMs : 0;
                ops.Add(WriteOp.Put(op.Key, op.Value ?? [], expires));
                events.Add(WatchHub.Put(op.Key, op.Value ?? [], index, expires));
                return new OpResult(Previous: prev);
            case KvOpKind.Delete:
                var existing = await _store.GetAsync(op.Key, clock, token).ConfigureAwait(false);
                if (existing is null)
                {
                    return new OpResult();
                }

                ops.Add(WriteOp.Delete(op.Key));
                events.Add(WatchHub.Delete(op.Key, index));
                return new OpResult(1, op.PrevKv ? existing : null);
            case KvOpKind.DeleteRange:
                var end = op.Prefix ? KeyRanges.PrefixEnd(op.Key) : op.RangeEnd ?? [];
                long deleted = 0;
                await foreach (var e in _store.ScanAsync(op.Key, end, 0, clock, token).ConfigureAwait(false))
                {
                    if (ReservedKeys.IsReserved(e.Key.Span))
                    {
                        continue;
                    }

                    var key = e.Key.ToArray();
                    ops.Add(WriteOp.Delete(key));
                    events.Add(WatchHub.Delete(key, index));
                    deleted++;
                }

                return new OpResult(deleted);
            case KvOpKind.Get:
                return new OpResult(Entry: await _store.GetAsync(op.Key, clock, token).ConfigureAwait(false));
            default:
                throw new UnsupportedCommandVersionException($"unknown op kind {(byte)op.Kind}");
        }
    }

    /// <summary>
    /// Replaces the state with the snapshot <paramref name="entry"/> ending at <paramref name="index"/>
    /// (streamed from the leader). The caller MUST keep the applier out meanwhile.
    /// </summary>
    public async ValueTask<long> InstallSnapshotAsync<TEntry>(TEntry entry, long index, CancellationToken token)
        where TEntry : IRaftLogEntry
    {
        await _snapshotLock.WaitAsync(token).ConfigureAwait(false);
        try
        {
            // Crash safety: the payload is unpacked into incoming-* (deleted at restore if unfinished);
            // the store's ingest is the commit point of the new state; the checkpoint directory is
            // renamed into place and the parent synced after it.
            var incoming = Path.Combine(_snapshotsDir, $"incoming-{index}");
            var packed = incoming + ".bin";
            _fs.DeleteDirectory(incoming);
            using (var file = _fs.Create(packed))
            {
                await using var stream = new WritableFileStream(file);
                var writer = IAsyncBinaryWriter.Create(stream, new byte[1 << 16]);
                await entry.WriteToAsync(writer, token).ConfigureAwait(false);
            }

            SnapshotPacker.Unpack(_fs, packed, incoming);
            _fs.Delete(packed);
            await _store.IngestAsync(incoming, token).ConfigureAwait(false);
            var final = Path.Combine(_snapshotsDir, $"{index:D20}-{entry.Term}");
            _fs.DeleteDirectory(final);
            _fs.RenameDirectory(incoming, final);
            _fs.SyncDirectory(_snapshotsDir);
            lock (_termLock)
            {
                _terms.Clear();
                _terms.Add((index, entry.Term));
            }

            if (await _store.GetAsync(ReservedKeys.Clock, 0, token).ConfigureAwait(false) is { } clock)
            {
                Interlocked.Exchange(ref _clock, BitConverter.ToInt64(clock.Value.Span));
            }

            _snapshot = new CheckpointSnapshot(_fs, final, index, entry.Term, _time.GetUtcNow());
            Interlocked.Increment(ref SnapshotsInstalled);
            LogSnapshotInstalled(_logger, index, entry.Term);
            return index;
        }
        finally
        {
            _snapshotLock.Release();
        }
    }
}
