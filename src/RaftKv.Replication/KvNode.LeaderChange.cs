namespace RaftKv.Replication;

public sealed partial class KvNode
{
    /// <summary>The current leader epoch's source: cancelled, and replaced, at each leader change this node
    /// observes (<see cref="OnLeaderChanged"/>). Never disposed: it owns no timer, and a token handed out
    /// must stay usable after its epoch ended.</summary>
    private CancellationTokenSource _leaderEpoch = NewLeaderEpoch();

    /// <inheritdoc/>
    public CancellationToken LeaderChangeToken => Volatile.Read(ref _leaderEpoch).Token;

    /// <summary>New leaders seen (Interlocked): <see cref="Api.NodeStatus.LeaderChangesSeen"/>.</summary>
    private long _leaderChangesSeen;

    private static CancellationTokenSource NewLeaderEpoch() => new();

    /// <summary>Subscribed to DotNext's <c>LeaderChanged</c> (raised when the leader this node knows changes:
    /// another member won a term, this node started an election — no leader — or won one). Ends the epoch:
    /// its token is cancelled with <see cref="CancellationTokenSource.CancelAsync"/>, so the callers' callbacks
    /// (cancelling forwarded calls) run on the thread pool, never on DotNext's Raft thread.</summary>
    private void OnLeaderChanged(DotNext.Net.Cluster.IClusterMember? leader)
    {
        if (leader is not null)
        {
            Interlocked.Increment(ref _leaderChangesSeen); // etcd counts elected leaders, not "no leader" moments
        }

        var ended = Interlocked.Exchange(ref _leaderEpoch, NewLeaderEpoch());
        _ = ended.CancelAsync();
    }
}
