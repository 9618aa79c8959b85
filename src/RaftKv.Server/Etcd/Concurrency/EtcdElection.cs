using RaftKv.Replication.Api;

namespace RaftKv.Server.Etcd.Concurrency;

/// <summary>
/// etcd's leader election (v3election over concurrency.Election), server side. Candidates of election
/// <c>name</c> own the keys <c>name/&lt;lease hex&gt;</c> (value = what they proclaim); the key created first
/// leads. Campaign waits like a lock waiter (<see cref="EtcdMutex"/>), Proclaim and Resign act only while the
/// candidate's key still has its create revision, Leader reads the oldest key, Observe
/// (<see cref="ObserveAsync"/>) follows the leaders' values.
/// </summary>
/// <remarks>Campaign runs on the member the client called, as etcd's v3election does: its writes go to the leader
/// through the call's <see cref="IConcurrencyWriter"/> (the create txn and the resign are idempotent, sent again to
/// the next leader when a leader change leaves their outcome unknown; so is a proclaim, which puts the same value under
/// the same create revision), its wait watches on the member and outlives a leader change (<see cref="EtcdMutex"/>).
/// Proclaim and Resign are one write each, forwarded whole by the pipeline; Leader and Observe read and watch on any
/// member. A campaign wait that is cancelled resigns (deletes the key); one that fails otherwise leaves the key, as
/// etcd does.</remarks>
public sealed partial class EtcdElection(ConcurrencyKv kv)
{
    /// <summary>concurrency.Election.Campaign: returns the header revision and the leader key once elected.</summary>
    public async Task<(long Revision, ElectionLeader Leader)> CampaignAsync(byte[] name, long lease, byte[] value, IConcurrencyWriter writer, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(writer);
        lease = await ConcurrencyKv.SessionLeaseAsync(writer, lease, cancellationToken).ConfigureAwait(false);
        var prefix = ConcurrencyKv.PrefixOf(name);
        var key = ConcurrencyKv.KeyOf(prefix, lease);
        var txn = new KvTxn(
            [ConcurrencyKv.CreatedAt(key, 0)],
            [new KvOp(KvOpKind.Put, key, value, Lease: lease)],
            [KvOp.RangeRead(new RangeRequest(key))]);
        var r = await writer.WriteAsync(txn, idempotent: true, cancellationToken).ConfigureAwait(false);
        var leader = new ElectionLeader(name, key, r.Revision, lease);
        if (!r.Succeeded)
        {
            var existing = r.Results[0].Range!.Kvs[0];
            leader = leader with { Rev = existing.CreateRevision };
            if (!existing.Value.Span.SequenceEqual(value))
            {
                try
                {
                    await ProclaimAsync(leader, value, writer, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception e) when (e is not (OutOfMemoryException or ConcurrencyException))
                {
                    // etcd resigns after a failed proclaim; after "not leader" its resign is a no-op (the key is gone).
                    await kv.DeleteQuietlyAsync(writer, ResignTxn(leader)).ConfigureAwait(false);
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
            await kv.DeleteQuietlyAsync(writer, ResignTxn(leader)).ConfigureAwait(false);
            throw;
        }

        return (r.Revision, leader);
    }

    /// <summary>concurrency.Election.Proclaim: puts the new value while the leader key still has its create
    /// revision, else <see cref="ConcurrencyError.NotLeader"/>. Returns the header revision.</summary>
    public static async Task<long> ProclaimAsync(ElectionLeader leader, byte[] value, IConcurrencyWriter writer, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(leader);
        var lease = await ConcurrencyKv.SessionLeaseAsync(writer, leader.Lease, cancellationToken).ConfigureAwait(false);
        var txn = new KvTxn([ConcurrencyKv.CreatedAt(leader.Key, leader.Rev)], [new KvOp(KvOpKind.Put, leader.Key, value, Lease: lease)], []);
        var r = await writer.WriteAsync(txn, idempotent: true, cancellationToken).ConfigureAwait(false);
        return r.Succeeded ? r.Revision : throw new ConcurrencyException(ConcurrencyError.NotLeader);
    }

    /// <summary>concurrency.Election.Resign: deletes the leader key if it still has its create revision (no
    /// error when it has not). Returns the header revision.</summary>
    public static async Task<long> ResignAsync(ElectionLeader leader, IConcurrencyWriter writer, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(leader);
        ArgumentNullException.ThrowIfNull(writer);
        await ConcurrencyKv.SessionLeaseAsync(writer, leader.Lease, cancellationToken).ConfigureAwait(false); // etcd opens a session with it
        return (await writer.WriteAsync(ResignTxn(leader), idempotent: true, cancellationToken).ConfigureAwait(false)).Revision;
    }

    /// <summary>concurrency.Election.Leader: the oldest candidate key, else <see cref="ConcurrencyError.NoLeader"/>.</summary>
    public async Task<(long Revision, KeyValue Kv)> LeaderAsync(byte[] name, CancellationToken cancellationToken)
    {
        var (first, revision) = await kv.FirstCreatedAsync(ConcurrencyKv.PrefixOf(name), cancellationToken).ConfigureAwait(false);
        return first is { } leader ? (revision, leader) : throw new ConcurrencyException(ConcurrencyError.NoLeader);
    }

    private static KvTxn ResignTxn(ElectionLeader leader) => new([ConcurrencyKv.CreatedAt(leader.Key, leader.Rev)], [KvOp.Delete(leader.Key)], []);
}
