using RaftKv.Replication.Api;

namespace RaftKv.Server.Etcd.Concurrency;

/// <summary>
/// etcd's leader election (v3election over concurrency.Election), server side. Candidates of election
/// <c>name</c> own the keys <c>name/&lt;lease hex&gt;</c> (value = what they proclaim); the key created first
/// leads. Campaign waits like a lock waiter (<see cref="EtcdMutex"/>), Proclaim and Resign act only while the
/// candidate's key still has its create revision, Leader reads the oldest key, Observe
/// (<see cref="ObserveAsync"/>) follows the leaders' values.
/// </summary>
/// <remarks>Writes need the leader (Campaign, Proclaim and Resign are forwarded to it); Leader and Observe read
/// and watch on any member. A campaign wait that is cancelled resigns (deletes the key); one that fails
/// otherwise leaves the key, as etcd does.</remarks>
public sealed partial class EtcdElection(ConcurrencyKv kv)
{
    /// <summary>concurrency.Election.Campaign: returns the header revision and the leader key once elected.</summary>
    public async Task<(long Revision, ElectionLeader Leader)> CampaignAsync(byte[] name, long lease, byte[] value, CancellationToken cancellationToken)
    {
        lease = await kv.SessionLeaseAsync(lease, cancellationToken).ConfigureAwait(false);
        var prefix = ConcurrencyKv.PrefixOf(name);
        var key = ConcurrencyKv.KeyOf(prefix, lease);
        var txn = new KvTxn(
            [ConcurrencyKv.CreatedAt(key, 0)],
            [new KvOp(KvOpKind.Put, key, value, Lease: lease)],
            [KvOp.RangeRead(new RangeRequest(key))]);
        var r = await kv.Node.WriteAsync(txn, cancellationToken).ConfigureAwait(false);
        var leader = new ElectionLeader(name, key, r.Revision, lease);
        if (!r.Succeeded)
        {
            var existing = r.Results[0].Range!.Kvs[0];
            leader = leader with { Rev = existing.CreateRevision };
            if (!existing.Value.Span.SequenceEqual(value))
            {
                try
                {
                    await ProclaimAsync(leader, value, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception e) when (e is not (OutOfMemoryException or ConcurrencyException))
                {
                    // etcd resigns after a failed proclaim; after "not leader" its resign is a no-op (the key is gone).
                    await kv.DeleteQuietlyAsync(ResignTxn(leader)).ConfigureAwait(false);
                    throw;
                }
            }
        }

        try
        {
            await kv.WaitDeletesAsync(prefix, leader.Rev - 1, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OutOfMemoryException && cancellationToken.IsCancellationRequested)
        {
            await kv.DeleteQuietlyAsync(ResignTxn(leader)).ConfigureAwait(false);
            throw;
        }

        return (r.Revision, leader);
    }

    /// <summary>concurrency.Election.Proclaim: puts the new value while the leader key still has its create
    /// revision, else <see cref="ConcurrencyError.NotLeader"/>. Returns the header revision.</summary>
    public async Task<long> ProclaimAsync(ElectionLeader leader, byte[] value, CancellationToken cancellationToken)
    {
        var lease = await kv.SessionLeaseAsync(leader.Lease, cancellationToken).ConfigureAwait(false);
        var txn = new KvTxn([ConcurrencyKv.CreatedAt(leader.Key, leader.Rev)], [new KvOp(KvOpKind.Put, leader.Key, value, Lease: lease)], []);
        var r = await kv.Node.WriteAsync(txn, cancellationToken).ConfigureAwait(false);
        return r.Succeeded ? r.Revision : throw new ConcurrencyException(ConcurrencyError.NotLeader);
    }

    /// <summary>concurrency.Election.Resign: deletes the leader key if it still has its create revision (no
    /// error when it has not). Returns the header revision.</summary>
    public async Task<long> ResignAsync(ElectionLeader leader, CancellationToken cancellationToken)
    {
        await kv.SessionLeaseAsync(leader.Lease, cancellationToken).ConfigureAwait(false); // etcd opens a session with it
        return (await kv.Node.WriteAsync(ResignTxn(leader), cancellationToken).ConfigureAwait(false)).Revision;
    }

    /// <summary>concurrency.Election.Leader: the oldest candidate key, else <see cref="ConcurrencyError.NoLeader"/>.</summary>
    public async Task<(long Revision, KeyValue Kv)> LeaderAsync(byte[] name, CancellationToken cancellationToken)
    {
        var (first, revision) = await kv.FirstCreatedAsync(ConcurrencyKv.PrefixOf(name), cancellationToken).ConfigureAwait(false);
        return first is { } leader ? (revision, leader) : throw new ConcurrencyException(ConcurrencyError.NoLeader);
    }

    private static KvTxn ResignTxn(ElectionLeader leader) => new([ConcurrencyKv.CreatedAt(leader.Key, leader.Rev)], [KvOp.Delete(leader.Key)], []);
}
