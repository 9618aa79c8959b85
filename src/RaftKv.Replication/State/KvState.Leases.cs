using System.Buffers.Binary;
using RaftKv.Replication.Api;
using RaftKv.Replication.Commands;
using RaftKv.Replication.Leases;
using RaftKv.Storage;

namespace RaftKv.Replication.State;

/// <remarks>
/// <para>Leases at apply (docs/architecture.md, "Leases"). Everything here is replicated state and
/// deterministic: the lease records and the attachment index are reserved keys (<see cref="LeaseKeys"/>),
/// <see cref="Leases"/> mirrors the records, and nothing reads a clock — expiry is the leader's business
/// (<see cref="Leases.Lessor"/>), which proposes <see cref="CommandKind.LeaseRevoke"/>.</para>
/// <para>A grant of an existing id and a revoke or put naming an unknown lease apply nothing but the clock
/// and fail the proposer's request (<see cref="LeaseExistsException"/>, <see cref="LeaseNotFoundException"/>)
/// — on every replica alike, since the table is the same everywhere at the same index.</para>
/// <para>A revoke is applied as a transaction of deletes of every attached key, through the same delete
/// path as a client's delete (one write, the same events for watchers), plus the removal of the lease
/// record.</para>
/// </remarks>
internal sealed partial class KvState
{
    /// <summary>Key → lease changes made by the earlier ops of the entry being applied (the store does not
    /// see them until the entry's batch is applied). Applier only.</summary>
    private readonly Dictionary<string, long> _leaseOverlay = new(StringComparer.Ordinal);

    /// <summary>The granted leases (a mirror of the lease records in the store).</summary>
    public LeaseTable Leases { get; } = new();

    private (TxnResult Result, bool Conflict) ApplyLeaseGrant(long index, KvCommand command, WriteOp clockOp, ApplyResult? holder)
    {
        var lease = command.Lease ?? throw new UnsupportedCommandVersionException("lease grant without a body");
        var id = lease.Id;
        if (id < 0 || (id != 0 && Leases.Contains(id)))
        {
            _store.Apply(index, [clockOp]);
            holder?.Fail(id < 0 ? new ArgumentException($"lease id {id} is negative") : new LeaseExistsException(id));
            return (new TxnResult(index, false, []), false);
        }

        if (id == 0)
        {
            id = LeaseIds.Pick(index, Leases);
        }

        _store.Apply(index, [WriteOp.Put(LeaseKeys.Lease(id), LeaseKeys.EncodeRecord(lease.TtlSeconds, 0)), clockOp]);
        Leases.Set(new LeaseRecord(id, lease.TtlSeconds, 0));
        if (holder is not null)
        {
            holder.LeaseId = id;
            holder.LeaseTtl = lease.TtlSeconds;
        }

        return (new TxnResult(index, true, []), false);
    }

    /// <summary>The transaction a revoke applies as (deletes of every attached key), or null when the lease
    /// is unknown (then only the clock was applied and the proposer failed).</summary>
    private KvCommand? RevokeAsTxn(long index, KvCommand command, WriteOp clockOp, ApplyResult? holder)
    {
        var id = command.Lease?.Id ?? throw new UnsupportedCommandVersionException("lease revoke without a body");
        if (!Leases.Contains(id))
        {
            _store.Apply(index, [clockOp]);
            holder?.Fail(new LeaseNotFoundException(id));
            return null;
        }

        var deletes = AttachedKeys(id).Select(k => KvOp.Delete(k)).ToList();
        return command with { Kind = CommandKind.Txn, Txn = new KvTxn([], deletes, []) };
    }

    /// <summary>The keys attached to lease <paramref name="id"/>, in key order (local metadata only).</summary>
    public IReadOnlyList<byte[]> AttachedKeys(long id)
    {
        var (start, end) = LeaseKeys.Attachments(id);
        return _store.ScanMetadata(start, end, 0, 0).Select(m => LeaseKeys.UserKeyOfAttachment(m.Key.Span)).ToList();
    }

    /// <summary>The first lease a put of <paramref name="ops"/> names that is not granted (0 = none).</summary>
    private long MissingLease(IReadOnlyList<KvOp> ops)
    {
        foreach (var op in ops)
        {
            if (op.Kind == KvOpKind.Put && op.Lease != 0 && !Leases.Contains(op.Lease))
            {
                return op.Lease;
            }
        }

        return 0;
    }

    /// <summary>A put of <paramref name="key"/> with <paramref name="lease"/> (0 = none): attaches it, and
    /// detaches it from the lease it had (etcd: a put without a lease detaches).</summary>
    private void AttachLease(byte[] key, long lease, List<WriteOp> ops)
    {
        var old = LeaseOf(key);
        if (old == lease)
        {
            return;
        }

        if (old != 0)
        {
            ops.Add(WriteOp.Delete(LeaseKeys.Attachment(old, key)));
        }

        if (lease != 0)
        {
            var id = new byte[8];
            BinaryPrimitives.WriteInt64LittleEndian(id, lease);
            ops.Add(WriteOp.Put(LeaseKeys.Attachment(lease, key), Array.Empty<byte>()));
            ops.Add(WriteOp.Put(LeaseKeys.KeyLease(key), id));
        }
        else
        {
            ops.Add(WriteOp.Delete(LeaseKeys.KeyLease(key)));
        }

        _leaseOverlay[Convert.ToHexString(key)] = lease;
    }

    /// <summary>A delete of <paramref name="key"/>: detaches it from its lease.</summary>
    private void DetachLease(byte[] key, List<WriteOp> ops) => AttachLease(key, 0, ops);

    /// <summary>Ends the lease side of a transaction's batch: a revoke also removes the lease record and
    /// any attachment left over. Call with the batch just before it is applied.</summary>
    private void FinishLeaseEffects(KvCommand original, List<WriteOp> ops)
    {
        _leaseOverlay.Clear();
        if (original.Kind != CommandKind.LeaseRevoke || original.Lease is not { } lease)
        {
            return;
        }

        foreach (var key in AttachedKeys(lease.Id))
        {
            ops.Add(WriteOp.Delete(LeaseKeys.Attachment(lease.Id, key)));
            ops.Add(WriteOp.Delete(LeaseKeys.KeyLease(key)));
        }

        ops.Add(WriteOp.Delete(LeaseKeys.Lease(lease.Id)));
    }

    /// <summary>Updates <see cref="Leases"/> after a batch was applied.</summary>
    private void LeaseEffectsApplied(KvCommand original)
    {
        if (original.Kind == CommandKind.LeaseRevoke && original.Lease is { } lease)
        {
            Leases.Remove(lease.Id);
        }
    }

    /// <summary>The lease <paramref name="key"/> is attached to (0 = none), as of the ops applied so far.</summary>
    private long LeaseOf(byte[] key)
    {
        if (_leaseOverlay.Count > 0 && _leaseOverlay.TryGetValue(Convert.ToHexString(key), out var changed))
        {
            return changed;
        }

        if (Leases.Count == 0)
        {
            return 0; // a revoke removes every attachment of its lease: no lease, no attachment
        }

        return _store.GetMetadata(LeaseKeys.KeyLease(key), 0)?.LocalValue is { Length: 8 } v
            ? BinaryPrimitives.ReadInt64LittleEndian(v.Span)
            : 0;
    }
}
