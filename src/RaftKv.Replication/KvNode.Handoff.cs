using Microsoft.Extensions.Logging;

namespace RaftKv.Replication;

/// <remarks>
/// Graceful leadership hand-off before a planned stop (docs/operations.md, "Shutdown"): the leader
/// resigns and turns standby (it cannot be elected again while it shuts down), so the others elect a
/// leader while this node still serves and forwards; clients then get "not leader" with the new leader's
/// address, or a forwarded answer, instead of a dead connection and an election timeout.
/// </remarks>
public sealed partial class KvNode
{
    /// <summary>
    /// If this node leads a cluster with other members: resigns, becomes standby, and waits (at most
    /// <paramref name="timeout"/>) until another member leads. Returns true when another member leads.
    /// A no-op (false) on a follower or a single node. Only for a node about to stop: it stays standby.
    /// </summary>
    public async Task<bool> HandOffLeadershipAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        if (!IsLeader || _cluster.Members.Count < 2)
        {
            return false;
        }

        _handingOff = true; // a leadership transfer's hold must not turn this node back to normal (KvNode.MoveLeader.cs)
        var deadline = _options.TimeProvider.GetUtcNow() + timeout;
        LogHandingOff(_logger, NodeId);
        while (_options.TimeProvider.GetUtcNow() < deadline)
        {
            if (IsLeader)
            {
                await ((DotNext.Net.Cluster.ICluster)_cluster).ResignAsync(cancellationToken).ConfigureAwait(false);
            }

            if (!_cluster.Standby)
            {
                await _cluster.EnableStandbyModeAsync(cancellationToken).ConfigureAwait(false); // only succeeds as a follower
            }

            if (_cluster.Standby && _cluster.Leader is { IsRemote: true } leader)
            {
                LogHandedOff(_logger, NodeId, MetaOf(leader).Id);
                return true;
            }

            await Task.Delay(20, cancellationToken).ConfigureAwait(false);
        }

        return false;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Node {NodeId} is stopping: handing leadership off")]
    private static partial void LogHandingOff(ILogger logger, long nodeId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Node {NodeId} handed leadership off to node {LeaderId}")]
    private static partial void LogHandedOff(ILogger logger, long nodeId, long leaderId);
}
