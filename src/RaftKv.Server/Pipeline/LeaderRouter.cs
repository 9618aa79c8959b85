using RaftKv.Replication.Api;

namespace RaftKv.Server.Pipeline;

/// <summary>
/// The forwarding decision shared by both front doors (<see cref="HttpLeaderForwarder"/>,
/// <see cref="GrpcLeaderForwarder"/>): a write received by a follower goes to the leader in one hop;
/// a call that already made that hop is never forwarded again. Each front door marks a forwarded call
/// with its own header and reaches the leader at its own address.
/// </summary>
public sealed class LeaderRouter(IKvNode node)
{
    /// <param name="alreadyForwarded">The call carries the front door's forwarded marker.</param>
    /// <param name="address">The leader's address for this front door (HTTP or gRPC).</param>
    public LeaderRoute Route(bool alreadyForwarded, Func<MemberInfo, string> address)
    {
        if (node.IsLeader)
        {
            return new LeaderRoute(LeaderRouteKind.Local, node.NodeId, null, string.Empty);
        }

        var status = node.GetStatus();
        if (alreadyForwarded)
        {
            return new LeaderRoute(LeaderRouteKind.AlreadyForwarded, status.NodeId, status.Leader, string.Empty);
        }

        return status.Leader is { } leader && address(leader) is { Length: > 0 } a
            ? new LeaderRoute(LeaderRouteKind.Forward, status.NodeId, leader, a)
            : new LeaderRoute(LeaderRouteKind.NoLeader, status.NodeId, status.Leader, string.Empty);
    }
}
