using System.Net;
using DotNext.Net.Cluster;
using DotNext.Net.Cluster.Consensus.Raft.Membership;
using Microsoft.Extensions.Logging;
using RaftKv.Storage.IO;

namespace RaftKv.Replication;

/// <summary>The start of a one-member cluster: its leadership begins a new term, as an election would.</summary>
public sealed partial class KvNode
{
    /// <summary>The persisted Raft configuration (set by <see cref="CreateAsync"/>).</summary>
    private FileMembershipStorage? Membership { get; init; }

    /// <summary>This node's Raft endpoint as the configuration lists it (set by <see cref="CreateAsync"/>).</summary>
    private EndPoint? RaftEndPoint { get; init; }

    /// <summary>
    /// When this node is the only member of its persisted configuration, moves it to the next term, voting
    /// for itself (durable before it returns, <see cref="DotNext.Net.Cluster.Consensus.Raft.IPersistentState.IncrementTermAsync"/>).
    /// </summary>
    /// <remarks>
    /// DotNext 6.12 makes the sole voter leader without an election, in the term it already has: a single
    /// node would lead in term 0 forever, and every reply would carry term 0 (the native and etcd
    /// <c>Status</c>, response headers, <c>/health</c>). This is the election it skips: with one voter its
    /// own vote is a quorum, so the new term is won and no other member can hold it. Called before
    /// <c>RaftCluster.StartAsync</c>, so DotNext leads in the new term and entries are stamped with it;
    /// each start of a single node is one term, as in etcd. A configuration with other members (or without
    /// this node) is left to DotNext's elections.
    /// </remarks>
    private async Task BeginTermIfSoleVoterAsync(CancellationToken cancellationToken)
    {
        if (_joining || !await IsSoleVoterAsync(cancellationToken).ConfigureAwait(false)) // joining: standby, no term of its own (KvNode.JoinExisting.cs)
        {
            return;
        }

        try
        {
            var term = await _log.AuditTrail.IncrementTermAsync(ClusterMemberId.FromEndPoint(RaftEndPoint), cancellationToken).ConfigureAwait(false);
            LogSoleVoterTerm(_logger, NodeId, term);
        }
        catch (Exception e) when (e is DiskFullException or StorageFailStopException)
        {
            // Out of space for the state file, or a failed fsync (the node has fail-stopped: the fatal handler
            // ran, nothing more is written). The sole voter then leads in the term it had, as before: with one
            // voter no other leader can exist in that term, so safety does not depend on the new term.
            LogSoleVoterTermKept(_logger, NodeId, _log.Term, e.Message);
        }
    }

    /// <summary>True when the persisted Raft configuration lists this node and no other.</summary>
    private async Task<bool> IsSoleVoterAsync(CancellationToken cancellationToken)
    {
        if (Membership is null || RaftEndPoint is null)
        {
            return false;
        }

        var members = await ((IClusterConfigurationStorage<EndPoint>)Membership).LoadConfigurationAsync(cancellationToken).ConfigureAwait(false);
        return members.Members.Count == 1 && members.Members.Contains(RaftEndPoint);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Node {NodeId} is the cluster's only voter: it leads in term {Term}")]
    private static partial void LogSoleVoterTerm(ILogger logger, long nodeId, long term);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Node {NodeId} is the cluster's only voter but could not begin a new term ({Reason}); it leads in term {Term}")]
    private static partial void LogSoleVoterTermKept(ILogger logger, long nodeId, long term, string reason);
}
