using RaftKv.Replication.Api;

namespace RaftKv.Server.Pipeline;

/// <summary>
/// The forwarding decision shared by both front doors (<see cref="HttpLeaderForwarder"/>,
/// <see cref="GrpcLeaderForwarder"/>): a write received by a follower goes to the leader in one hop;
/// a call that already made that hop is never forwarded again. Each front door marks a forwarded call
/// with its own header and reaches the leader at its own address.
/// </summary>
/// <remarks>A follower that knows no leader (an election is under way: the old leader died or stepped
/// down) waits up to <see cref="LeaderWait"/> for one before it answers "no leader", so a client
/// that writes through a follower during a leader change sees a slower write, not an error
/// (<see cref="RouteAsync"/>). etcd's followers likewise hold a proposal until a leader is known.</remarks>
public sealed class LeaderRouter(IKvNode node)
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(20);

    /// <summary>How long <see cref="RouteAsync"/> waits for a leader to become known: a few election
    /// timeouts (300–600 ms by default), well under a client's usual deadline.</summary>
    public TimeSpan LeaderWait { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary><see cref="Route"/>, but when no leader is known yet, polls until one is, the call is
    /// cancelled (its deadline), or <see cref="LeaderWait"/> has passed.</summary>
    public async ValueTask<LeaderRoute> RouteAsync(bool alreadyForwarded, Func<MemberInfo, string> address, CancellationToken cancellationToken)
    {
        var route = Route(alreadyForwarded, address);
        var deadline = System.Diagnostics.Stopwatch.GetTimestamp() + (long)(LeaderWait.TotalSeconds * System.Diagnostics.Stopwatch.Frequency);
        while (route.Kind == LeaderRouteKind.NoLeader && System.Diagnostics.Stopwatch.GetTimestamp() < deadline && !cancellationToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(Poll, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break; // the caller's deadline: answer with what is known
            }

            route = Route(alreadyForwarded, address);
        }

        return route;
    }

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
