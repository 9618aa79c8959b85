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
/// <para>MVCC (<see cref="MvccLayout"/>): a transaction that changes at least one key bumps the
/// revision by one; its changes share it. The per-key metadata it needs (create revision, version,
/// lease) is in small "m/" records that every node has locally. ignore_value puts were resolved by the
/// proposer like value compares (the value it read and the key's mod revision then; stale = conflict).
/// A put with ignore_value/ignore_lease on an absent key fails the whole transaction
/// (<see cref="KeyNotFoundForIgnoreException"/>: nothing applied, deterministic).</para>
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
    /// described on the class. <c>Conflict</c>: only the clock was applied. <c>Error</c>: a deterministic
    /// refusal (nothing but the clock applied) reported to the proposer.</summary>
    private async ValueTask<(TxnResult Result, bool Conflict, Exception? Error)> ApplyCommandAsync(long index, KvCommand command, ApplyResult? holder, CancellationToken token)
    {
        var clock = Math.Max(LogicalClock, command.TimestampUnixMs);
        Interlocked.Exchange(ref _clock, clock);
        _store.LogicalClockUnixMs = clock;
        var clockOp = WriteOp.Put(ReservedKeys.Clock, BitConverter.GetBytes(clock));
        var revision = Revision;
        var compactRevision = CompactRevision;
        if (index <= _store.AppliedIndex)
        {
            return (new TxnResult(index, true, [], revision), false, null); // replay of an entry already in the store
        }

        if (command.Kind == CommandKind.Compact)
        {
            Exception? error = command.Revision <= compactRevision ? new RevisionCompactedException(command.Revision, compactRevision)
                : command.Revision > revision ? new FutureRevisionException(command.Revision, revision)
                : null;
            var newCompact = error is null ? command.Revision : compactRevision;
            ApplyBatch(index, [clockOp, WriteOp.Put(MvccLayout.RevisionKey, MvccLayout.EncodeRevision(revision, newCompact))], revision, newCompact);
            return (new TxnResult(index, error is null, [], revision), false, error);
        }

        if (KvCommand.IsAuthKind(command.Kind))
        {
            return ApplyAuth(index, command, clockOp, revision, compactRevision); // KvState.Auth.cs
        }

        var original = command;
        if (command.Kind == CommandKind.LeaseGrant)
        {
            if (RefuseForNoSpace(index, command, clockOp, revision, compactRevision) is { } refused)
            {
                return refused; // KvState.Space.cs
            }

            return ApplyLeaseGrant(index, command, clockOp, revision, compactRevision, holder);
        }

        if (command.Kind == CommandKind.LeaseRevoke)
        {
            if (RevokeAsTxn(command) is not { } revoke)
            {
                ApplyBatch(index, [clockOp], revision, compactRevision);
                return (new TxnResult(index, false, [], revision), false, new LeaseNotFoundException(command.Lease?.Id ?? 0));
            }

            command = revoke; // the deletes go through the txn path below: one revision, delete events
        }

        if (command.Kind is CommandKind.HashCheck or CommandKind.Alarm or CommandKind.Learner or CommandKind.ClusterUid)
        {
            return (ApplyMaintenance(index, command, clockOp, clock, revision, compactRevision), false, null); // KvState.Corruption.cs
        }

        if (command.Kind == CommandKind.Tick || command.Txn is null)
        {
            ApplyBatch(index, [clockOp], revision, compactRevision);
            return (new TxnResult(index, true, [], revision), false, null);
        }

        if (command.RequestId is { } rid && _store.GetMetadata(ReservedKeys.Request(rid), clock) is { } seen)
        {
            // A retry of a request that already committed: answer with the original outcome.
            var span = (seen.LocalValue ?? throw new InvalidOperationException("a request-id record's value is not local (keys files keep values this short)")).Span;
            ApplyBatch(index, [clockOp], revision, compactRevision);
            var originalRevision = span.Length >= 17 ? BinaryPrimitives.ReadInt64LittleEndian(span[9..]) : revision;
            return (new TxnResult(BinaryPrimitives.ReadInt64LittleEndian(span), span[8] != 0, [], originalRevision), false, null);
        }

        if (RefuseForNoSpace(index, command, clockOp, revision, compactRevision) is { } noSpace)
        {
            return noSpace; // after the request-id check: a retry of a write that committed before the alarm answers as it did
        }

        var apply = new TxnApply(this, _store, clock, revision, command, holder);
        var resolutions = command.ResolutionsByCompare();
        TxnResult outcome;
        try
        {
            outcome = await ApplyTxnAsync(apply, command.Txn, resolutions, index, token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is KeyNotFoundForIgnoreException or LeaseNotFoundException or FutureRevisionException or RevisionCompactedException)
        {
            ApplyBatch(index, [clockOp], revision, compactRevision);
            return (new TxnResult(index, false, [], revision), false, e);
        }

        if (apply.Conflict)
        {
            // Deterministic on every replica (a revision check); no request-id record, so the
            // proposer's re-proposal with the same id is applied.
            Interlocked.Increment(ref ValueCompareConflicts);
            ApplyBatch(index, [clockOp], revision, compactRevision);
            return (new TxnResult(index, false, [], revision), true, null);
        }

        var newRevision = apply.Changed ? apply.NewRevision : revision;
        var ops = apply.Ops;
        ops.Add(clockOp);
        if (apply.Changed)
        {
            ops.Add(WriteOp.Put(MvccLayout.RevisionKey, MvccLayout.EncodeRevision(newRevision, compactRevision)));
            if (_indexFrom == 0)
            {
                ops.Add(WriteOp.Put(MvccLayout.IndexFromKey, MvccLayout.EncodeIndexFrom(newRevision))); // the first change with index records
            }
        }

        if (command.RequestId is { } id)
        {
            var record = new byte[17];
            BinaryPrimitives.WriteInt64LittleEndian(record, index);
            record[8] = outcome.Succeeded ? (byte)1 : (byte)0;
            BinaryPrimitives.WriteInt64LittleEndian(record.AsSpan(9), newRevision);
            ops.Add(WriteOp.Put(ReservedKeys.Request(id), record, clock + (long)RequestIdRetention.TotalMilliseconds));
        }

        FinishLeaseEffects(original, ops);
        RaiseTtlHorizon(apply.MaxExpires); // KvState.TtlHorizon.cs
        ApplyBatch(index, ops, newRevision, compactRevision);
        if (apply.Expiries is { } expiries)
        {
            foreach (var expires in expiries)
            {
                _expirySchedule.Add(expires, LogicalClock);
            }
        }
        if (apply.Changed && _indexFrom == 0)
        {
            Interlocked.Exchange(ref _indexFrom, newRevision);
        }

        LeaseEffectsApplied(original);
        if (apply.Changed)
        {
            Watch.Publish(newRevision, apply.Events);
        }

        return (outcome with { Revision = newRevision }, false, null);
    }

    private async ValueTask<TxnResult> ApplyTxnAsync(TxnApply apply, KvTxn txn, IReadOnlyDictionary<KvCompare, ResolvedCompare>? resolutions, long index, CancellationToken token)
    {
        if (apply.Command.FormatVersion >= CommandCodec.TxnPathVersion && apply.Path is null && (HasNested(txn.Success) || HasNested(txn.Failure)))
        {
            // etcd's compareToPath: every compare on the path, nested ones included, sees the state before the txn.
            apply.Path = new Dictionary<KvTxn, bool>(ReferenceEqualityComparer.Instance);
            if (!await DecidePathAsync(apply, txn, resolutions, token).ConfigureAwait(false))
            {
                apply.Conflict = true;
                return new TxnResult(index, false, []);
            }
        }

        var verdict = apply.Path is not null && apply.Path.TryGetValue(txn, out var decided) ? Of(decided) : await VerdictAsync(apply, txn, resolutions, token).ConfigureAwait(false);

        if (verdict == Verdict.Conflict)
        {
            apply.Conflict = true;
            return new TxnResult(index, false, []);
        }

        var succeeded = verdict == Verdict.Holds;
        var branch = succeeded ? txn.Success : txn.Failure;
        if (apply.Command.FormatVersion >= CommandCodec.RangeRevisionVersion && !apply.RequestsChecked)
        {
            apply.RequestsChecked = true;
            CheckRequests(apply, branch); // KvState.TxnHistory.cs: etcd's checkRequests over the path, before any op
        }

        CheckIgnoreTargets(apply, branch);
        var results = new List<OpResult>(branch.Count);
        for (var i = 0; i < branch.Count; i++) // by index: no boxed enumerator per apply
        {
            results.Add(await ApplyOpAsync(apply, branch[i], resolutions, index, token).ConfigureAwait(false));
            if (apply.Conflict)
            {
                return new TxnResult(index, false, []);
            }
        }

        return new TxnResult(index, succeeded, results);
    }

    private async ValueTask<Verdict> VerdictAsync(TxnApply apply, KvTxn txn, IReadOnlyDictionary<KvCompare, ResolvedCompare>? resolutions, CancellationToken token)
    {
        var verdict = Verdict.Holds;
        for (var i = 0; i < txn.Compares.Count && verdict == Verdict.Holds; i++)
        {
            var c = txn.Compares[i];
            verdict = await EvaluateAsync(apply, c, resolutions is not null && resolutions.TryGetValue(c, out var r) ? r : null, token).ConfigureAwait(false);
        }

        return verdict;
    }

    private static bool HasNested(IReadOnlyList<KvOp> ops)
    {
        for (var i = 0; i < ops.Count; i++)
        {
            if (ops[i].Kind == KvOpKind.Txn)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Decides the branch of <paramref name="txn"/> and of every nested txn on the path taken, before any op
    /// runs (<see cref="TxnApply.Path"/>); false when a resolution went stale (a conflict).</summary>
    private async ValueTask<bool> DecidePathAsync(TxnApply apply, KvTxn txn, IReadOnlyDictionary<KvCompare, ResolvedCompare>? resolutions, CancellationToken token)
    {
        var verdict = await VerdictAsync(apply, txn, resolutions, token).ConfigureAwait(false);
        if (verdict == Verdict.Conflict)
        {
            return false;
        }

        apply.Path![txn] = verdict == Verdict.Holds;
        foreach (var op in verdict == Verdict.Holds ? txn.Success : txn.Failure)
        {
            if (op is { Kind: KvOpKind.Txn, Nested: { } nested } && !await DecidePathAsync(apply, nested, resolutions, token).ConfigureAwait(false))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>etcd checks ignore_value/ignore_lease puts of the branch taken before executing it.</summary>
    private static void CheckIgnoreTargets(TxnApply apply, IReadOnlyList<KvOp> branch)
    {
        for (var i = 0; i < branch.Count; i++)
        {
            var op = branch[i];
            if (op.Kind == KvOpKind.Put && (op.IgnoreValue || op.IgnoreLease) && apply.Meta(op.Key) is null)
            {
                throw new KeyNotFoundForIgnoreException(op.Key);
            }
        }
    }

    private async ValueTask<Verdict> EvaluateAsync(TxnApply apply, KvCompare c, ResolvedCompare? resolved, CancellationToken token)
    {
        if (c.IsRange)
        {
            var (start, end, _) = RangeBounds.Of(c.Key, c.RangeEnd);
            var keys = apply.Keys(start, end, false);
            if (c.Target == CompareTarget.Value)
            {
                if (keys.Count == 0)
                {
                    return Verdict.Fails; // etcd: a value compare over no key fails
                }

                // Resolved by the proposer at the store revision it read (Version): valid only if nothing changed since.
                return resolved is null ? Verdict.Conflict : resolved.Version == apply.BaseRevision && !apply.Changed ? Of(resolved.Holds) : Verdict.Conflict;
            }

            if (keys.Count == 0)
            {
                return Of(NumericHolds(c, null));
            }

            foreach (var (_, m) in keys)
            {
                if (!NumericHolds(c, m))
                {
                    return Verdict.Fails;
                }
            }

            return Verdict.Holds;
        }

        var meta = apply.Meta(c.Key);
        switch (c.Target)
        {
            case CompareTarget.Exists:
                return Of((meta is not null) == c.Exists);
            case CompareTarget.Version or CompareTarget.Create or CompareTarget.Mod or CompareTarget.Lease:
                return Of(NumericHolds(c, meta));
            case CompareTarget.Value:
                if (meta is not { } m)
                {
                    return Of(ValueHolds(c, null));
                }

                if (apply.OverlayValue(c.Key) is { } written)
                {
                    return Of(ValueHolds(c, written)); // written earlier in this txn: the value is in the command
                }

                if (resolved is not null)
                {
                    var seen = apply.Command.FormatVersion <= 2 ? _store.GetMetadata(c.Key, apply.Clock)?.Version ?? 0 : m.Mod;
                    return resolved.Version == seen ? Of(resolved.Holds) : Verdict.Conflict;
                }

                if (apply.Command.FormatVersion >= 3)
                {
                    return Verdict.Conflict; // a proposer always resolves value compares; never guess
                }

                // Before format version 2: evaluate against the value itself (see the class remarks).
                var valueKey = m.ValueInHistory ? MvccLayout.HistoryKey(c.Key, m.Mod) : c.Key;
                var local = _store.GetMetadata(valueKey, apply.Clock)?.LocalValue;
                var value = local ?? (await _store.GetAsync(valueKey, apply.Clock, token).ConfigureAwait(false))?.Value;
                return Of(ValueHolds(c, m.ValueInHistory && value is { } record ? MvccLayout.HistoryValue(record) : value));
            default:
                return Verdict.Fails;
        }
    }

    private static bool NumericHolds(KvCompare c, KeyMeta? meta)
    {
        var m = meta ?? default;
        var actual = c.Target switch
        {
            CompareTarget.Version => m.Version,
            CompareTarget.Create => m.Create,
            CompareTarget.Mod => m.Mod,
            CompareTarget.Lease => m.Lease,
            _ => 0,
        };
        return Holds(c.Op, actual.CompareTo(c.Operand));
    }

    /// <summary>A value compare against <paramref name="value"/> (null = the key is absent: etcd's rule,
    /// a value compare on a missing key always fails). Shared by the apply and the proposer's resolution.</summary>
    internal static bool ValueHolds(KvCompare c, ReadOnlyMemory<byte>? value)
        => value is { } v && Holds(c.Op, v.Span.SequenceCompareTo(c.Value ?? []));

    private static bool Holds(CompareOp op, int cmp) => op switch
    {
        CompareOp.Equal => cmp == 0,
        CompareOp.NotEqual => cmp != 0,
        CompareOp.Greater => cmp > 0,
        CompareOp.Less => cmp < 0,
        _ => false,
    };

    private static Verdict Of(bool holds) => holds ? Verdict.Holds : Verdict.Fails;

    private async ValueTask<OpResult> ApplyOpAsync(TxnApply apply, KvOp op, IReadOnlyDictionary<KvCompare, ResolvedCompare>? resolutions, long index, CancellationToken token)
    {
        switch (op.Kind)
        {
            case KvOpKind.Put:
                {
                    var prev = apply.Meta(op.Key);
                    var prevKv = op.PrevKv ? apply.PrevFor(op.Key, prev) : null;
                    byte[] value;
                    if (op.IgnoreValue)
                    {
                        // Resolved by the proposer (the value it read at this mod revision); stale = conflict.
                        if (prev is not { } p || op.ResolvedMod != p.Mod || op.Value is null)
                        {
                            apply.Conflict = true;
                            return new OpResult();
                        }

                        value = op.Value;
                    }
                    else
                    {
                        value = op.Value ?? [];
                    }

                    CheckLease(op.Lease);
                    apply.Put(op, value, prev);
                    return new OpResult(Previous: ToEntry(prevKv), PrevKv: prevKv);
                }

            case KvOpKind.Delete or KvOpKind.DeleteRange:
                {
                    var (start, end, single) = DeleteBounds(op);
                    var deleted = apply.Keys(start, end, single);
                    List<KeyValue>? prevKvs = op.PrevKv && apply.HasProposer ? [] : null;
                    foreach (var (k, m) in deleted)
                    {
                        if (prevKvs is not null && apply.PrevFor(k, m) is { } pk)
                        {
                            prevKvs.Add(pk);
                        }

                        apply.Delete(k);
                    }

                    return new OpResult(deleted.Count, Previous: prevKvs is { Count: > 0 } && op.Kind == KvOpKind.Delete ? ToEntry(prevKvs[0]) : null, PrevKvs: prevKvs);
                }

            case KvOpKind.Get:
                {
                    var range = apply.Range(new RangeRequest(op.Key));
                    return new OpResult(Entry: range.Kvs.Count > 0 && apply.HasProposer ? ToEntry(range.Kvs[0]) : null, Range: range);
                }

            case KvOpKind.Range when op.Range is { Revision: not 0 } at && apply.Command.FormatVersion >= CommandCodec.RangeRevisionVersion:
                return RangeAtRevision(apply, at); // KvState.TxnHistory.cs
            case KvOpKind.Range:
                return new OpResult(Range: apply.Range(op.Range ?? new RangeRequest(op.Key)));
            case KvOpKind.Txn:
                return new OpResult(Nested: await ApplyTxnAsync(apply, op.Nested ?? throw new UnsupportedCommandVersionException("txn op without a transaction"), resolutions, index, token).ConfigureAwait(false));
            default:
                throw new UnsupportedCommandVersionException($"unknown op kind {(byte)op.Kind}");
        }
    }

    /// <summary>What a Delete/DeleteRange op covers: Delete = the key; DeleteRange = [key, RangeEnd), the
    /// prefix with <see cref="KvOp.Prefix"/>, every key ≥ key with RangeEnd [0x00] (etcd; all keys when key is
    /// [0x00] too), no key with a RangeEnd at or before the key (etcd deletes nothing: [key, key)), every key ≥ key
    /// with a null RangeEnd (native).</summary>
    internal static (byte[] Start, byte[] End, bool Single) DeleteBounds(KvOp op)
        => op.Kind == KvOpKind.Delete ? (op.Key, [], true)
            : op.Prefix ? (op.Key, KeyRanges.PrefixEnd(op.Key), false)
            : op.RangeEnd is [0x00] ? (op.Key is [0x00] ? [] : op.Key, [], false)
            : op.RangeEnd is { Length: > 0 } end && RangeBounds.IsBackwards(op.Key, end) ? (op.Key, op.Key, false)
            : (op.Key, op.RangeEnd ?? [], false);

    /// <summary>The one place a put's lease is checked at apply: an ungranted id fails the transaction with
    /// <see cref="LeaseNotFoundException"/> (nothing but the clock applied, deterministically, like
    /// <see cref="KeyNotFoundForIgnoreException"/>; the lease table is the same on every replica).</summary>
    private void CheckLease(long lease)
    {
        if (lease != 0 && !Leases.Contains(lease))
        {
            throw new LeaseNotFoundException(lease);
        }
    }

    /// <summary>The native API's shape of a KV (its version is the mod revision).</summary>
    internal static KvEntry? ToEntry(KeyValue? kv)
        => kv is { } v ? new KvEntry(v.Key, v.Value, v.ModRevision, v.ExpiresAtUnixMs, v.Tier) : null;
}
