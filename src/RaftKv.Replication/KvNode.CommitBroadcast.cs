using DotNext.Net.Cluster.Consensus.Raft;
using DotNext.Threading;
using DotNextNotLeader = DotNext.Net.Cluster.Consensus.Raft.NotLeaderException;

namespace RaftKv.Replication;

/// <summary>
/// Followers learn the leader's commit index promptly. DotNext sends the commit index with each replication round,
/// and a round starts when a write is proposed or at the heartbeat; so the commit of the last write of a burst (or of
/// an idle leader's tick) reached followers only with the next heartbeat, half an election timeout later: a follower's
/// watchers, serializable reads and linearizable reads (which wait to apply the read index) waited for it. etcd's
/// leader broadcasts an append as soon as its commit index advances; here the leader starts one round once proposals
/// pause (<see cref="CommitBroadcastLoopAsync"/>: no proposal for <see cref="KvNodeOptions.CommitBroadcastDelay"/>
/// after the last one completed; never during a steady stream of writes, whose own rounds carry the commit index) and
/// when a follower asks for a read index above its commit index (<c>KvNode.FollowerReadIndex.cs</c>).
/// </summary>
public sealed partial class KvNode
{
    /// <summary>Proposals started on this node (<see cref="ProposeAsync"/>), to tell a pause from a stream of writes.</summary>
    private long _proposalsStarted;

    /// <summary>Set when the last pending proposal completed: its commit index is owed to the followers. Not disposed (it
    /// holds no resource): a proposal completing while the node stops may still set it.</summary>
    private readonly AsyncAutoResetEvent _commitBroadcastOwed = new(false);

    /// <summary>Nudges (<see cref="NudgeReplication"/>) not yet covered by a replication round started after them.</summary>
    private long _replicationNudges;

    private long _replicationNudgeRounds;

    /// <summary>Replication rounds this leader started to tell followers its commit index (<see cref="NudgeReplication"/>).</summary>
    public long ReplicationNudgeRounds => Interlocked.Read(ref _replicationNudgeRounds);

    /// <summary>
    /// Tells the followers this leader's commit index now (etcd's leader broadcasts an append as soon as its commit
    /// index advances; DotNext's tells followers with the next round, which on an idle leader is the next heartbeat,
    /// half an election timeout later). Called when a follower's read index is above that follower's commit index (it
    /// would otherwise wait for the heartbeat to learn the commit it must apply) and by <see cref="CommitBroadcastLoopAsync"/>
    /// once writes pause. Coalesced: one round at a time; a request arriving during a round gets one more round after it,
    /// since the running round may carry an older commit index. Bounded by the lower election timeout; failures are
    /// ignored (the heartbeat still comes).
    /// </summary>
    private void NudgeReplication()
    {
        if (Interlocked.Increment(ref _replicationNudges) == 1)
        {
            _ = NudgeReplicationLoopAsync();
        }
    }

    private async Task NudgeReplicationLoopAsync()
    {
        long covered;
        do
        {
            covered = Interlocked.Read(ref _replicationNudges);
            Interlocked.Increment(ref _replicationNudgeRounds);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
            timeout.CancelAfter(_options.ElectionTimeoutLower);
            try
            {
                await _cluster.ForceReplicationAsync(timeout.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or DotNextNotLeader or InvalidOperationException
                or QuorumUnreachableException or DotNext.Net.Cluster.MemberUnavailableException)
            {
                // The heartbeat (or the next leader) tells the followers; a read still waiting falls under its own deadline.
            }
        }
        while (Interlocked.Add(ref _replicationNudges, -covered) > 0);
    }

    /// <summary>Once proposals pause, one round tells the followers the last commit index (see the type's summary).</summary>
    private async Task CommitBroadcastLoopAsync()
    {
        var token = _stop.Token;
        try
        {
            while (true)
            {
                await _commitBroadcastOwed.WaitAsync(token).ConfigureAwait(false);
                long seen;
                do
                {
                    seen = Interlocked.Read(ref _proposalsStarted);
                    await Task.Delay(_options.CommitBroadcastDelay, _options.TimeProvider, token).ConfigureAwait(false);
                }
                while (Interlocked.Read(ref _proposalsStarted) != seen && Interlocked.Read(ref _proposalsPending) == 0);

                // Proposals still pending: the last to complete sets the event again.
                if (Interlocked.Read(ref _proposalsStarted) == seen && IsLeader)
                {
                    NudgeReplication();
                }
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
        }
    }
}
