using RaftKv.Replication.Api;
using RaftKv.Replication.Commands;
using RaftKv.Replication.Leases;
using RaftKv.Storage;

namespace RaftKv.Replication.State;

/// <remarks>
/// <para>Leases at apply (docs/architecture.md, "Leases"). Everything here is replicated state and
/// deterministic: the lease records and the lease → keys index are reserved keys (<see cref="LeaseKeys"/>),
/// a key's lease is in its MVCC metadata, <see cref="Leases"/> mirrors the records, and nothing reads a
/// clock: expiry is the leader's business (<see cref="Lessor"/>), which proposes
/// <see cref="CommandKind.LeaseRevoke"/>.</para>
/// <para>A grant of an existing id, a revoke of an unknown lease and a put naming an unknown lease apply
/// nothing but the clock and fail the proposer's request (<see cref="LeaseExistsException"/>,
/// <see cref="LeaseNotFoundException"/>): on every replica alike, since the table is the same everywhere at
/// the same index.</para>
/// <para>A revoke is applied as a transaction of deletes of every attached key, through the MVCC delete path
/// (<see cref="TxnApply.Delete"/>: one new revision for all of them, delete events for watchers, history),
/// plus the removal of the lease record. A revoke of a lease without keys changes no key and so no
/// revision (etcd).</para>
/// </remarks>
internal sealed partial class KvState
{
    /// <summary>The granted leases (a mirror of the lease records in the store).</summary>
    public LeaseTable Leases { get; } = new();

    /// <summary>The keys attached to lease <paramref name="id"/>, in key order (local metadata only).</summary>
    public IReadOnlyList<byte[]> AttachedKeys(long id)
    {
        var (start, end) = LeaseKeys.Attachments(id);
        return _store.ScanMetadata(start, end, 0, 0).Select(m => LeaseKeys.UserKeyOfAttachment(m.Key.Span)).ToList();
    }

    private (TxnResult Result, bool Conflict, Exception? Error) ApplyLeaseGrant(long index, KvCommand command, WriteOp clockOp, long revision, long compactRevision, ApplyResult? holder)
    {
        var lease = command.Lease ?? throw new UnsupportedCommandVersionException("lease grant without a body");
        var id = lease.Id;
        if (id < 0 || (id != 0 && Leases.Contains(id)))
        {
            ApplyBatch(index, [clockOp], revision, compactRevision);
            return (new TxnResult(index, false, [], revision), false, id < 0 ? new ArgumentException($"lease id {id} is negative") : new LeaseExistsException(id));
        }

        if (id == 0)
        {
            id = LeaseIds.Pick(index, Leases);
        }

        ApplyBatch(index, [WriteOp.Put(LeaseKeys.Lease(id), LeaseKeys.EncodeRecord(lease.TtlSeconds, 0)), clockOp], revision, compactRevision);
        Leases.Set(new LeaseRecord(id, lease.TtlSeconds, 0));
        if (holder is not null)
        {
            holder.LeaseId = id;
            holder.LeaseTtl = lease.TtlSeconds;
        }

        return (new TxnResult(index, true, [], revision), false, null);
    }

    /// <summary>The transaction a revoke applies as (a delete of every attached key), or null when the lease
    /// is not granted.</summary>
    private KvCommand? RevokeAsTxn(KvCommand command)
    {
        var id = command.Lease?.Id ?? throw new UnsupportedCommandVersionException("lease revoke without a body");
        if (!Leases.Contains(id))
        {
            return null;
        }

        var deletes = AttachedKeys(id).Select(k => KvOp.Delete(k)).ToList();
        return command with { Kind = CommandKind.Txn, Txn = new KvTxn([], deletes, []) };
    }

    /// <summary>Ends the lease side of a transaction's batch: a revoke also removes the lease record (and any
    /// attachment whose key was no longer live, so none outlives its lease).</summary>
    private void FinishLeaseEffects(KvCommand original, List<WriteOp> ops)
    {
        if (original.Kind != CommandKind.LeaseRevoke || original.Lease is not { } lease)
        {
            return;
        }

        foreach (var key in AttachedKeys(lease.Id))
        {
            ops.Add(WriteOp.Delete(LeaseKeys.Attachment(lease.Id, key)));
        }

        ops.Add(WriteOp.Delete(LeaseKeys.Lease(lease.Id)));
    }

    /// <summary>Updates <see cref="Leases"/> once a batch is applied.</summary>
    private void LeaseEffectsApplied(KvCommand original)
    {
        if (original.Kind == CommandKind.LeaseRevoke && original.Lease is { } lease)
        {
            Leases.Remove(lease.Id);
        }
    }
}
