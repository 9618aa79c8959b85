using RaftKv.Replication.Api;

namespace RaftKv.Server.Etcd.Concurrency;

/// <summary>
/// etcd's distributed lock (v3lock over concurrency.Mutex), server side. The lock <c>name</c> owns the keys
/// <c>name/&lt;lease hex&gt;</c>; the key created first (lowest create revision) holds the lock, the others wait in
/// create-revision order, each for the deletion of every older key (no herd: a waiter watches only the key
/// just ahead of it). A holder's key lives as long as its lease: revoking or letting the lease expire releases
/// the lock, and Unlock deletes the key.
/// </summary>
/// <remarks>
/// Ordering: a waiter holds the lock once every key of the prefix created before its own is deleted, read
/// linearizably and watched from the revision history, so no delete is missed (a compacted history ends the
/// wait with etcd's compacted error); then, as etcd 3.5's Mutex.Lock, the waiter reads its own key: gone (its lease
/// expired or was revoked while it waited) → "session expired", never the lock. Locking twice with one lease is one
/// acquisition (the key is reused).
/// A wait that fails or is cancelled deletes the waiter's key (etcd's Unlock on the client context), if it is still the
/// key this call created (same create revision): the delete is retried, so it must not take a key a later call made.
/// Where it runs: Lock runs on the member the client called, as etcd's v3lock does; its writes (the session lease of a
/// call with lease 0, the create txn, the cleanup delete) go to the leader through the call's
/// <see cref="IConcurrencyWriter"/>, its reads and its wait (watches) stay on the member, so a wait outlives a leader
/// change. The create txn and the delete are idempotent (sent again to the next leader when a leader change leaves
/// their outcome unknown); the lease grant is not. Unlock is one write, forwarded whole by the pipeline.
/// </remarks>
public sealed class EtcdMutex(ConcurrencyKv kv)
{
    /// <summary>concurrency.Mutex.Lock: returns once the caller's key holds the lock.</summary>
    public async Task<LockHeld> LockAsync(byte[] name, long lease, IConcurrencyWriter writer, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(writer);
        lease = await ConcurrencyKv.SessionLeaseAsync(writer, lease, cancellationToken).ConfigureAwait(false);
        var prefix = ConcurrencyKv.PrefixOf(name);
        var key = ConcurrencyKv.KeyOf(prefix, lease);
        var owner = KvOp.RangeRead(ConcurrencyKv.FirstCreate(prefix));
        var txn = new KvTxn(
            [ConcurrencyKv.CreatedAt(key, 0)],
            [new KvOp(KvOpKind.Put, key, [], Lease: lease), owner],
            [KvOp.RangeRead(new RangeRequest(key)), owner]);
        // Idempotent: a second apply finds the key (create revision ≠ 0) and reads it and the owner, as a retry of etcd's does.
        var r = await writer.WriteAsync(txn, idempotent: true, cancellationToken).ConfigureAwait(false);
        var myRev = r.Succeeded ? r.Revision : r.Results[0].Range!.Kvs[0].CreateRevision;
        var ownerKvs = r.Results[1].Range!.Kvs;
        if (ownerKvs.Count == 0 || ownerKvs[0].CreateRevision == myRev)
        {
            return new LockHeld(key, r.Revision);
        }

        RangeResult mine;
        try
        {
            await kv.WaitDeletesAsync(prefix, myRev - 1, cancellationToken).ConfigureAwait(false);

            // etcd 3.5's Mutex.Lock: the waiter's own key must still exist (its lease may have expired or been
            // revoked while it waited, and another waiter then holds the lock).
            mine = await kv.ReadAsync(new RangeRequest(key), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Only the key this call created (its create revision): the cleanup is tried again for up to a minute
            // (ConcurrencyKv.DeleteQuietlyAsync), and a later Lock with the same lease may have created the key anew by
            // then and hold the lock with it — an unconditional retried delete would take that holder's key.
            await kv.DeleteQuietlyAsync(writer, new KvTxn([ConcurrencyKv.CreatedAt(key, myRev)], [KvOp.Delete(key)], [])).ConfigureAwait(false);
            throw;
        }

        return mine.Kvs.Count == 1 && mine.Kvs[0].CreateRevision == myRev
            ? new LockHeld(key, mine.Revision)
            : throw new ConcurrencyException(ConcurrencyError.SessionExpired);
    }

    /// <summary>v3lock Unlock: deletes the key (whether or not it holds the lock). Returns the header revision.</summary>
    public static async Task<long> UnlockAsync(byte[] key, IConcurrencyWriter writer, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(writer);
        return (await writer.WriteAsync(KvTxn.Single(KvOp.Delete(key)), idempotent: true, cancellationToken).ConfigureAwait(false)).Revision;
    }
}
