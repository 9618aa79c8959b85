using System.Diagnostics;
using DotNext.Net.Cluster.Consensus.Raft;

namespace RaftKv.Replication;

/// <summary>
/// Lease-based linearizable reads on the leader (Raft thesis §6.4.1; etcd's <c>ReadOnlyLeaseBased</c>, TiKV's and
/// Consul's default). A read-index round proves leadership with a quorum round trip per read (batched, but still
/// one network round and one wake-up per batch). A lease proves it with time instead:
/// <list type="bullet">
/// <item>When a strong barrier round that this node started as leader, at monotonic time <c>t0</c>, comes back
/// confirmed by a majority and this node is still leader of the same term, every member of that majority heard
/// from it at or after <c>t0</c>.</item>
/// <item>DotNext's members refuse votes and pre-votes until their election timeout (at least
/// <see cref="KvNodeOptions.ElectionTimeoutLower"/>) has passed since they last heard from a leader ("leader
/// stickiness", <c>RaftCluster.VoteAsync</c>), and any new leader needs the vote of one of them. So no other
/// leader can exist before <c>t0 + ElectionTimeoutLower</c>.</item>
/// <item>The lease ends at <c>t0 + </c><see cref="KvNodeOptions.ReadLeaseDuration"/> (0.8 × the lower election
/// timeout: 20 % for clock-rate drift between members). Until then the leader's commit index is a valid read
/// index without a round; the read waits until this node applied it, as a read-index read does.</item>
/// </list>
/// Time is read from <see cref="Stopwatch.GetTimestamp"/> when the read is served, never from a timer, so a leader
/// that was paused (SIGSTOP, GC, a stalled VM) sees its lease as expired when it resumes. A member that restarts
/// forgets when it last heard from the leader and would vote at once; it therefore waits an election timeout before
/// joining (<see cref="WaitOutLeasesAsync"/>). Leases are renewed in the background by a strong barrier round when
/// less than half remains, so a steady read load runs about two rounds per lease instead of one per batch.
/// <para>Concurrency: <see cref="_lease"/> is an immutable record swapped with <see cref="Volatile"/>; readers take
/// one snapshot. Renewals are single-flight (<see cref="_leaseRenewing"/>). A stale snapshot is only ever older
/// (shorter) than the newest lease, never longer.</para>
/// </summary>
public sealed partial class KvNode
{
    /// <summary>The current read lease (null: none). Replaced whole; see the type's remarks.</summary>
    private ReadLeaseGrant? _lease;

    /// <summary>1 while a background renewal round runs (Interlocked).</summary>
    private int _leaseRenewing;

    private long _leaseReads;
    private long _quorumReads;

    /// <summary>Monotonic time this node object was created (its Raft listener cannot have answered a vote before).</summary>
    private readonly long _createdAt = Stopwatch.GetTimestamp();

    /// <summary>Linearizable reads served on the leader's read lease, without a quorum round.</summary>
    public long LeaseReads => Interlocked.Read(ref _leaseReads);

    /// <summary>Linearizable reads (or lease renewals) that ran a quorum read-index round.</summary>
    public long QuorumReads => Interlocked.Read(ref _quorumReads);

    /// <summary>A read index from a valid lease: the leader's commit index, when this node leads with an unexpired
    /// lease of its current term. False: run a read-index round.</summary>
    private bool TryLeaseReadIndex(out long readIndex)
    {
        readIndex = 0;
        if (!_options.ReadLease || Volatile.Read(ref _lease) is not { } lease)
        {
            return false;
        }

        var now = Stopwatch.GetTimestamp();
        if (lease.Leadership.IsCancellationRequested || lease.Term != _log.Term || now >= lease.ExpiresAt)
        {
            return false;
        }

        readIndex = _log.LastCommittedIndex;

        // Checked again after reading the commit index: leadership may have ended in between.
        if (lease.Leadership.IsCancellationRequested || lease.Term != _log.Term)
        {
            return false;
        }

        Interlocked.Increment(ref _leaseReads);
        if (now >= lease.RenewAfter)
        {
            RenewLeaseInBackground();
        }

        return true;
    }

    /// <summary>Runs DotNext's strong read barrier; as leader, a confirmed round grants a new lease from its start.</summary>
    private async ValueTask StrongBarrierAsync(CancellationToken token)
    {
        var leadership = _cluster.LeadershipToken;
        var term = _log.Term;
        var startedAt = Stopwatch.GetTimestamp();
        await _cluster.ApplyReadBarrierAsync(ReadBarrierType.Strong, token).ConfigureAwait(false);
        Interlocked.Increment(ref _quorumReads);
        if (_options.ReadLease && !leadership.IsCancellationRequested && _log.Term == term)
        {
            Grant(new ReadLeaseGrant(term, startedAt + Ticks(_options.ReadLeaseDuration), startedAt + Ticks(_options.ReadLeaseDuration / 2), leadership));
        }
    }

    private void Grant(ReadLeaseGrant grant)
    {
        while (true)
        {
            var current = Volatile.Read(ref _lease);
            if (current is not null && current.Term == grant.Term && current.ExpiresAt >= grant.ExpiresAt)
            {
                return; // a later round already granted a longer one
            }

            if (Interlocked.CompareExchange(ref _lease, grant, current) == current)
            {
                return;
            }
        }
    }

    private void RenewLeaseInBackground()
    {
        if (Interlocked.CompareExchange(ref _leaseRenewing, 1, 0) != 0)
        {
            return;
        }

        _ = Task.Run(async () =>
        {
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
                timeout.CancelAfter(_options.OperationTimeout);
                await StrongBarrierAsync(timeout.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or QuorumUnreachableException or InvalidOperationException or DotNext.Net.Cluster.MemberUnavailableException or ObjectDisposedException)
            {
                // No renewal: the lease runs out and reads fall back to read-index rounds.
            }
            finally
            {
                Volatile.Write(ref _leaseRenewing, 0);
            }
        });
    }

    /// <summary>
    /// A member that has been part of a cluster (term &gt; 0) and restarts has forgotten when it last heard from the
    /// leader, so DotNext would grant a vote at once — possibly helping elect a second leader while the first still
    /// serves reads on a lease this member's earlier acknowledgement granted. It stays silent (its Raft listener
    /// not yet started) until the lower election timeout has passed since this node object was created. Costs nothing
    /// when opening storage already took that long; only with <see cref="KvNodeOptions.ReadLease"/>.
    /// </summary>
    private async Task WaitOutLeasesAsync(CancellationToken token)
    {
        if (!_options.ReadLease || _log.Term == 0 || await IsSoleVoterAsync(token).ConfigureAwait(false))
        {
            return; // a new member has acknowledged nothing; a sole voter's vote elects only itself
        }

        var left = _options.ElectionTimeoutLower - Stopwatch.GetElapsedTime(_createdAt);
        if (left > TimeSpan.Zero)
        {
            await Task.Delay(left, token).ConfigureAwait(false);
        }
    }

    private static long Ticks(TimeSpan span) => (long)(span.TotalSeconds * Stopwatch.Frequency);

    /// <summary>One lease: valid for <paramref name="Term"/> while <paramref name="Leadership"/> is not cancelled and
    /// the monotonic clock is before <paramref name="ExpiresAt"/>; renewed once past <paramref name="RenewAfter"/>.</summary>
    private sealed record ReadLeaseGrant(long Term, long ExpiresAt, long RenewAfter, CancellationToken Leadership);
}
