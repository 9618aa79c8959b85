using Microsoft.Extensions.Logging;
using RaftKv.Replication.Api;

namespace RaftKv.Replication;

/// <summary>
/// A member (voter or learner) removed from the cluster stops, as an etcd member does ("the member has been permanently removed from the
/// cluster"): left running it would serve nothing (no leader ever replicates to it again), answer every request
/// unavailable, keep an operator's load balancer sending it traffic and keep starting elections the others reject.
/// <see cref="Removed"/> completes when this node learns it; the server stops the process (exit code 0).
/// </summary>
/// <remarks>
/// <para>How it learns it (<see cref="CheckRemovedAsync"/>, every metadata round of 500 ms): a member removed while it ran
/// stops hearing from the leader (DotNext's leader replicates only to its configuration), and one removed while it was
/// down never hears from a leader again (its own persisted configuration may still list it). So a member that has had
/// no leader for <see cref="LeaderlessBeforeAsking"/> asks the other members of its configuration
/// (<see cref="KvNodeOptions.MembershipPeers"/>): when a majority of them answer, each knowing a leader and listing
/// neither this node's id nor its Raft address, twice <see cref="RemovalConfirmDelay"/> apart, it was removed.</para>
/// <para>Why not its own applied configuration: a node being added applies the leader's previous configuration, which
/// does not list it, during DotNext's warm-up (RaftCluster.AddMemberAsync catches the node up before it proposes the
/// new configuration; docs/architecture.md, "Joining an existing cluster"), for as long as a large catch-up takes. It
/// hears from the leader all that time, so it never asks. A partitioned member is still listed by the others, a cluster
/// without a leader never answers "removed", and a node with an empty log never asks (a new member started before it
/// was added waits to be added, as before).</para>
/// <para>A learner asks the same way once it has had no log stream from a leader for as long (a removed learner's
/// stream is refused: "not a learner of this cluster"); the others list learners too, so one still listed is never
/// taken for removed. Never for a node joining with INITIAL_CLUSTER_STATE=existing (not added yet: it waits), or a
/// member moved to another address (etcd MemberUpdate: it must be restarted there, KvNode.MemberUpdate.cs).</para>
/// <para>Concurrency: every field here but <see cref="_removed"/> is read and written by the metadata loop only (one
/// task; tests read <see cref="MembershipAsks"/>); <see cref="_removed"/> completes once.</para>
/// </remarks>
public sealed partial class KvNode
{
    /// <summary>How long apart the two observations of a removal must be.</summary>
    private static readonly TimeSpan RemovalConfirmDelay = TimeSpan.FromSeconds(1);

    private readonly TaskCompletionSource _removed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>When this node last had a leader (<see cref="TimeProvider.GetTimestamp"/>), or when it started.</summary>
    private long _lastLeaderSeen = -1;

    /// <summary>When the first of the two observations of a removal was made, or null.</summary>
    private long? _removalSeenAt;

    /// <summary>How many times this node has asked the others whether it is still a member (tests wait on it).</summary>
    internal int MembershipAsks { get; private set; }

    /// <summary>Completes (once) when this node has learnt that it was removed from the cluster; it never faults.
    /// Everything this node applied stays on disk; its data directory is of no further use to this cluster (etcd: remove
    /// it, or add the member back and restart it with INITIAL_CLUSTER_STATE=existing on an empty one).</summary>
    public Task Removed => _removed.Task;

    /// <summary>How long a member may go without hearing from a leader before it asks the others whether it is still a member.</summary>
    private TimeSpan LeaderlessBeforeAsking => TimeSpan.FromTicks(Math.Max(TimeSpan.FromSeconds(5).Ticks, _options.ElectionTimeoutUpper.Ticks * 10));

    /// <summary>One round of the removal check (metadata loop).</summary>
    private async Task CheckRemovedAsync(CancellationToken token)
    {
        var now = _options.TimeProvider.GetTimestamp();
        if (_lastLeaderSeen < 0 || _cluster.Leader is not null || (_learner && _tailSource is not null))
        {
            _lastLeaderSeen = now; // a learner hears from the leader over its log stream (KvNode.Learner.cs), never through DotNext
        }

        var ask = !_removed.Task.IsCompleted && !_joining && HasReceivedLog && !IsMovedAway()
            && _options.TimeProvider.GetElapsedTime(_lastLeaderSeen, now) >= LeaderlessBeforeAsking
            && _options.MembershipPeers is not null;
        if (!ask || !await PeersSayRemovedAsync(_options.MembershipPeers!, token).ConfigureAwait(false))
        {
            _removalSeenAt = null;
        }
        else if (_removalSeenAt is not { } first)
        {
            _removalSeenAt = now;
        }
        else if (_options.TimeProvider.GetElapsedTime(first, now) >= RemovalConfirmDelay)
        {
            LogRemoved(_logger, NodeId);
            _removed.TrySetResult();
        }
    }

    /// <summary>Asks the other members of this node's configuration for their member lists (in parallel, each bounded by
    /// the operation timeout): true when a majority of them answer with a leader and without this node.</summary>
    private async Task<bool> PeersSayRemovedAsync(IMembershipPeers peers, CancellationToken token)
    {
        var others = Members().Where(m => !m.IsLocal && !m.IsLearner).ToList();
        if (others.Count == 0)
        {
            return false;
        }

        MembershipAsks++;
        var self = RaftEndPoint?.ToString() ?? _options.RaftAdvertise;
        var answers = await Task.WhenAll(others.Select(async m =>
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(token);
            timeout.CancelAfter(_options.OperationTimeout);
            try
            {
                var list = await peers.MembersAsync(m, timeout.Token).ConfigureAwait(false);
                return list.Any(x => x.IsLeader) && !list.Any(x => x.Id == NodeId || SameAddress(x.RaftAddress, self) || IsSelfAddress(x.RaftAddress));
            }
            catch (Exception e) when (e is not OutOfMemoryException && !token.IsCancellationRequested)
            {
                return false; // unanswered: never evidence of a removal
            }
        })).ConfigureAwait(false);
        return answers.Count(a => a) > others.Count / 2;
    }

    /// <summary>Whether this node holds any of a cluster's log: an empty node (a new member started before the operator
    /// added it, e.g. a wiped replacement) is not listed by the others yet, which is no removal.</summary>
    private bool HasReceivedLog => _log.LastIndex > 0 || _store.AppliedIndex > 0;

    /// <summary>Listed as moved (etcd MemberUpdate) to an address this node does not advertise.</summary>
    private bool IsMovedAway() => _state.Learners.Moved.Any(m => m.Id == NodeId && !IsSelfAddress(m.RaftAddress));

    [LoggerMessage(Level = LogLevel.Warning, Message = "Node {NodeId} has been permanently removed from the cluster (it has had no leader for a while, and a majority of the other members have one and no longer list it): it stops. To bring it back, add it again (member add) and restart it (docs/operations.md, \"A removed member stops\")")]
    private static partial void LogRemoved(ILogger logger, long nodeId);
}
