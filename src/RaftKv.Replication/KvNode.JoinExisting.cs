using Microsoft.Extensions.Logging;
using RaftKv.Replication.Log;
using RaftKv.Storage;

namespace RaftKv.Replication;

/// <summary>
/// INITIAL_CLUSTER_STATE=existing (<see cref="KvNodeOptions.JoinExisting"/>; etcd's <c>--initial-cluster-state=existing</c>).
/// With <c>new</c>, a node whose data directory is empty bootstraps its configuration from PEERS and may win an
/// election with the other PEERS members: right for the first start of a cluster, dangerous for a node joining a
/// running one. A wiped node restarted with the original PEERS cannot win alone (its empty log loses every vote), but
/// a majority of wiped nodes can, and would found a second cluster whose higher term then overwrites the real members
/// (chaos long5 seed 1, 2026-12-04, through an operator-procedure mistake).
/// <para>With <c>existing</c> such a node starts in DotNext's standby: it votes and accepts replication but never
/// starts an election. It leaves standby once a leader has replicated to it (its log is no longer empty and it knows a
/// remote leader: it is in that leader's configuration, and has that cluster's history), retrying DotNext's
/// <c>RevertToNormalModeAsync</c> until the configuration it applied lists it (the learner promotion's loop).
/// A node that already has a log, or a learner, starts as it always did.</para>
/// <para>Concurrency: <see cref="_joining"/> is written once by the constructor and cleared by
/// <see cref="JoinLoopAsync"/> (one task); readers tolerate a stale true (they only report "standby").</para>
/// </summary>
public sealed partial class KvNode
{
    private static readonly TimeSpan JoinPoll = TimeSpan.FromMilliseconds(100);

    /// <summary>True while this node waits, in standby, for the cluster it joins to replicate to it.</summary>
    private volatile bool _joining;

    /// <summary>True while this node, started with INITIAL_CLUSTER_STATE=existing on an empty data directory, waits
    /// for a leader of the cluster it joins.</summary>
    public bool IsJoining => _joining;

    /// <summary>Whether this start joins an existing cluster: asked for, not a learner, and nothing received yet.</summary>
    private static bool StartsJoining(KvNodeOptions options, IReplicatedLog log, LsmStore store)
        => options.JoinExisting && !StartsAsLearner(options) && log.LastIndex == 0 && store.AppliedIndex == 0;

    private async Task JoinLoopAsync()
    {
        var token = _stop.Token;
        if (_joining)
        {
            LogJoining(_logger, NodeId);
        }

        while (_joining && !token.IsCancellationRequested)
        {
            if (_log.LastIndex > 0 && _cluster.Leader is { IsRemote: true })
            {
                _joining = false;
                LogJoined(_logger, NodeId, _log.LastIndex);
                await LeaveStandbyAfterPromotionAsync().ConfigureAwait(false); // KvNode.Learner.cs
                return;
            }

            try
            {
                await Task.Delay(JoinPoll, _options.TimeProvider, token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>
    /// DotNext lists this node again: a configuration holding it was applied after one without it. That happens to a
    /// node being added (by a join or a promotion) when it left standby before DotNext applied the configuration
    /// without it that the AddMember warm-up replicates first (the leader's old one): removing the local member put
    /// DotNext back in standby, and re-adding it does not take a node started in standby out of it (DotNext's unfreeze
    /// only completes the readiness such a node completed at start). Left there, the member votes but never campaigns;
    /// under load the join loop often left standby first (JoinExistingTests timed out with the node in standby, listed,
    /// its standby resumable). So the leave-standby loop runs again, unless this node wants standby: a learner, a node
    /// still joining (its own loop leaves it), a shutdown hand-off or a leadership transfer's hold.
    /// </summary>
    /// <remarks>DotNext raises the event under its transition lock, before its member list shows the change: the loop
    /// runs on another task, and retries while DotNext does not list the local member yet.</remarks>
    private void OnMemberAdded(DotNext.Net.Cluster.Consensus.Raft.RaftClusterMember member)
    {
        if (member.IsRemote || _learner || _joining || _handingOff || _stop.IsCancellationRequested)
        {
            return;
        }

        lock (_holdLock)
        {
            if (_heldByTransfer)
            {
                return;
            }
        }

        _ = Task.Run(LeaveStandbyAfterPromotionAsync, CancellationToken.None);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Node {NodeId} joins an existing cluster (INITIAL_CLUSTER_STATE=existing, empty data directory): it will not start an election until a leader has replicated to it")]
    private static partial void LogJoining(ILogger logger, long nodeId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Node {NodeId} joined its cluster (log up to index {Index} from the leader); it now takes part in elections")]
    private static partial void LogJoined(ILogger logger, long nodeId, long index);
}
