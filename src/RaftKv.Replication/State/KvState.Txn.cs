using System.Buffers.Binary;
using RaftKv.Replication.Api;
using RaftKv.Replication.Commands;
using RaftKv.Storage;

namespace RaftKv.Replication.State;

/// <remarks>
/// <para>Applying a transaction never waits on the object store (docs/architecture.md, "Apply never
/// waits on S3"). Everything the outcome depends on is metadata that every replica has locally
/// whatever it has archived (<see cref="IKvStore.GetMetadata"/>, <see cref="IKvStore.ScanMetadata"/>:
/// memtables, local tables and the keys files of archived tables): existence and version compares,
/// a delete's existence check, the keys of a range/prefix delete, and the request-id records (9-byte
/// values, always kept locally). Value compares were evaluated by the proposing leader
/// (<see cref="ResolvedCompare"/>): at apply only the key's version is checked, and a stale
/// resolution makes the entry a conflict on every replica alike. Values returned to the client
/// (prev_kv, txn Get) are not state: only the proposer's node fills them in, from what it has
/// locally or pre-read (<see cref="ApplyResult.PreRead"/>), never from the object store.</para>
/// <para>The one exception is a value compare in an entry written before command format version 2
/// (no resolution): its value is read as before, which may need the object store; if that fails the
/// exception stops the applier (fail-stop) rather than apply it differently from replicas that
/// evaluated it.</para>
/// </remarks>
internal sealed partial class KvState
{
    /// <summary>Entries whose resolved value compare went stale at apply (the proposer retried).</summary>
    public long ValueCompareConflicts;

    private enum Verdict
    {
        Fails,
        Holds,
        Conflict,
    }

    /// <summary>Applies one command. Completes synchronously except for the legacy value compare
    /// described on the class. <c>Conflict</c>: only the clock was applied.</summary>
    private async ValueTask<(TxnResult Result, bool Conflict)> ApplyCommandAsync(long index, KvCommand command, ApplyResult? holder, CancellationToken token)
    {
        var clock = Math.Max(LogicalClock, command.TimestampUnixMs);
        Interlocked.Exchange(ref _clock, clock);
        _store.LogicalClockUnixMs = clock;
        var clockOp = WriteOp.Put(ReservedKeys.Clock, BitConverter.GetBytes(clock));
        if (index <= _store.AppliedIndex)
        {
            return (new TxnResult(index, true, []), false); // replay of an entry already in the store
        }

        var original = command;
        if (command.Kind == CommandKind.LeaseGrant)
        {
            return ApplyLeaseGrant(index, command, clockOp, holder);
        }

        if (command.Kind == CommandKind.LeaseRevoke)
        {
            if (RevokeAsTxn(index, command, clockOp, holder) is not { } revoke)
            {
                return (new TxnResult(index, false, []), false);
            }

            command = revoke; // the deletes go through the txn path below (one write, watch events)
        }

        if (command.Kind == CommandKind.Tick || command.Txn is null)
        {
            _store.Apply(index, [clockOp]);
            return (new TxnResult(index, true, []), false);
        }

        if (command.RequestId is { } rid && _store.GetMetadata(ReservedKeys.Request(rid), clock) is { } seen)
        {
            // A retry of a request that already committed: answer with the original outcome.
            var span = (seen.LocalValue ?? throw new InvalidOperationException("a request-id record's value is not local (keys files keep values this short)")).Span;
            _store.Apply(index, [clockOp]);
            return (new TxnResult(BinaryPrimitives.ReadInt64LittleEndian(span), span[8] != 0, []), false);
        }

        var txn = command.Txn;
        var verdict = Verdict.Holds;
        for (var i = 0; i < txn.Compares.Count && verdict == Verdict.Holds; i++)
        {
            verdict = await EvaluateAsync(txn.Compares[i], command.Resolved?[i], clock, token).ConfigureAwait(false);
        }

        if (verdict == Verdict.Conflict)
        {
            // Deterministic on every replica (a version check); no request-id record, so the
            // proposer's re-proposal with the same id is applied.
            Interlocked.Increment(ref ValueCompareConflicts);
            _store.Apply(index, [clockOp]);
            return (new TxnResult(index, false, []), true);
        }

        var succeeded = verdict == Verdict.Holds;
        if (MissingLease(succeeded ? txn.Success : txn.Failure) is var missing and not 0)
        {
            _store.Apply(index, [clockOp]);
            holder?.Fail(new LeaseNotFoundException(missing));
            return (new TxnResult(index, false, []), false);
        }

        var ops = new List<WriteOp>();
        var events = new List<WatchEvent>();
        var results = new List<OpResult>();
        foreach (var op in succeeded ? txn.Success : txn.Failure)
        {
            results.Add(ApplyOp(op, index, clock, holder, ops, events));
        }

        ops.Add(clockOp);
        if (command.RequestId is { } id)
        {
            var record = new byte[9];
            BinaryPrimitives.WriteInt64LittleEndian(record, index);
            record[8] = succeeded ? (byte)1 : (byte)0;
            ops.Add(WriteOp.Put(ReservedKeys.Request(id), record, clock + (long)RequestIdRetention.TotalMilliseconds));
        }

        FinishLeaseEffects(original, ops);
        _store.Apply(index, ops);
        LeaseEffectsApplied(original);
        Watch.Publish(events, index);
        return (new TxnResult(index, succeeded, results), false);
    }

    private async ValueTask<Verdict> EvaluateAsync(KvCompare c, ResolvedCompare? resolved, long clock, CancellationToken token)
    {
        var meta = _store.GetMetadata(c.Key, clock);
        switch (c.Target)
        {
            case CompareTarget.Exists:
                return Of((meta is not null) == c.Exists);
            case CompareTarget.Version:
                return Of(Holds(c.Op, (meta?.Version ?? 0).CompareTo(c.Version)));
            case CompareTarget.Value:
                if (meta is not { } m)
                {
                    return Of(ValueHolds(c, null));
                }

                if (resolved is not null)
                {
                    return resolved.Version == m.Version ? Of(resolved.Holds) : Verdict.Conflict;
                }

                // Before format version 2: evaluate against the value itself (see the class remarks).
                var value = m.LocalValue ?? (await _store.GetAsync(c.Key, clock, token).ConfigureAwait(false))?.Value;
                return Of(ValueHolds(c, value));
            default:
                return Verdict.Fails;
        }
    }

    /// <summary>A value compare against <paramref name="value"/> (null = the key is absent: only
    /// NotEqual holds). Shared by the apply and the proposer's resolution.</summary>
    internal static bool ValueHolds(KvCompare c, ReadOnlyMemory<byte>? value)
        => value is { } v ? Holds(c.Op, v.Span.SequenceCompareTo(c.Value ?? [])) : c.Op == CompareOp.NotEqual;

    private static bool Holds(CompareOp op, int cmp) => op switch
    {
        CompareOp.Equal => cmp == 0,
        CompareOp.NotEqual => cmp != 0,
        CompareOp.Greater => cmp > 0,
        CompareOp.Less => cmp < 0,
        _ => false,
    };

    private static Verdict Of(bool holds) => holds ? Verdict.Holds : Verdict.Fails;

    private OpResult ApplyOp(KvOp op, long index, long clock, ApplyResult? holder, List<WriteOp> ops, List<WatchEvent> events)
    {
        switch (op.Kind)
        {
            case KvOpKind.Put:
                var prev = op.PrevKv && holder is not null ? ValueForProposer(_store.GetMetadata(op.Key, clock), holder) : null;
                var expires = op.TtlMs > 0 ? clock + op.TtlMs : 0;
                ops.Add(WriteOp.Put(op.Key, op.Value ?? [], expires));
                AttachLease(op.Key, op.Lease, ops);
                events.Add(WatchHub.Put(op.Key, op.Value ?? [], index, expires));
                return new OpResult(Previous: prev);
            case KvOpKind.Delete:
                if (_store.GetMetadata(op.Key, clock) is not { } existing)
                {
                    return new OpResult();
                }

                ops.Add(WriteOp.Delete(op.Key));
                DetachLease(op.Key, ops);
                events.Add(WatchHub.Delete(op.Key, index));
                return new OpResult(1, op.PrevKv && holder is not null ? ValueForProposer(existing, holder) : null);
            case KvOpKind.DeleteRange:
                var end = op.Prefix ? KeyRanges.PrefixEnd(op.Key) : op.RangeEnd ?? [];
                long deleted = 0;
                foreach (var e in _store.ScanMetadata(op.Key, end, 0, clock))
                {
                    if (ReservedKeys.IsReserved(e.Key.Span))
                    {
                        continue;
                    }

                    var key = e.Key.ToArray();
                    ops.Add(WriteOp.Delete(key));
                    DetachLease(key, ops);
                    events.Add(WatchHub.Delete(key, index));
                    deleted++;
                }

                return new OpResult(deleted);
            case KvOpKind.Get:
                return holder is null ? new OpResult() : new OpResult(Entry: ValueForProposer(_store.GetMetadata(op.Key, clock), holder));
            default:
                throw new UnsupportedCommandVersionException($"unknown op kind {(byte)op.Kind}");
        }
    }

    /// <summary>The entry a prev_kv or Get result shows the proposer: from this node's local copy,
    /// else from the proposer's pre-read at the same version; never from the object store. Marks
    /// the result incomplete when neither has it. Not state: followers skip it.</summary>
    private static KvEntry? ValueForProposer(KeyMetadata? meta, ApplyResult holder)
    {
        if (meta is not { } m)
        {
            return null;
        }

        if (m.LocalValue is { } v)
        {
            return new KvEntry(m.Key, v, m.Version, m.ExpiresAtUnixMs, m.Tier);
        }

        if (holder.FindPreRead(m.Key.Span, m.Version) is { } pre)
        {
            return pre;
        }

        holder.MarkValueMissing();
        return null;
    }
}
