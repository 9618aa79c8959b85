using RaftKv.Replication;
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
/// (<see cref="RouteAsync"/>). etcd's followers likewise hold a proposal until a leader is known.
/// A forwarded call is bounded: abandoned when the leader it went to loses leadership
/// (<see cref="LeaderChange"/>, "leader changed") and, when its client set no earlier deadline, after
/// <see cref="ForwardTimeout"/> (etcd's request timeout).</remarks>
public sealed class LeaderRouter(IKvNode node)
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(20);

    /// <summary>A router with the bounds derived from the node's timeouts (<see cref="LeaderWaitFor"/>,
    /// <see cref="ForwardTimeoutFor"/>).</summary>
    public static LeaderRouter For(IKvNode node, KvNodeOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new LeaderRouter(node)
        {
            LeaderWait = LeaderWaitFor(options.ElectionTimeoutUpper),
            ForwardTimeout = ForwardTimeoutFor(options.OperationTimeout, options.ElectionTimeoutLower),
        };
    }

    /// <summary>How long <see cref="RouteAsync"/> waits for a leader to become known: 1.5 × the upper
    /// election timeout (ELECTION_TIMEOUT_MS × 2; 3 s by default), so one election that follows a leader's
    /// loss ends within it, even one that started late.</summary>
    public static TimeSpan LeaderWaitFor(TimeSpan electionTimeoutUpper) => electionTimeoutUpper * 1.5;

    /// <summary>The bound of a forwarded call whose client set no earlier deadline: etcd's request timeout,
    /// 5 s + 2 × the election timeout — here the node's operation timeout (how long a leader waits for a write
    /// to commit, 5 s) + 2 × ELECTION_TIMEOUT_MS (7 s by default). It covers the wait for a leader
    /// (<see cref="LeaderWait"/>) and a leader's own commit timeout, so a working leader answers first.</summary>
    public static TimeSpan ForwardTimeoutFor(TimeSpan operationTimeout, TimeSpan electionTimeout) => operationTimeout + (electionTimeout * 2);

    /// <summary>How long <see cref="RouteAsync"/> waits for a leader to become known (<see cref="LeaderWaitFor"/>).</summary>
    public TimeSpan LeaderWait { get; init; } = LeaderWaitFor(KvNodeOptions.DefaultElectionTimeout * 2);

    /// <summary>The upper bound of a forwarded call (<see cref="ForwardTimeoutFor"/>): a call still unanswered then
    /// fails with <see cref="ForwardTimeoutException"/>, unless its client's own deadline is earlier.</summary>
    public TimeSpan ForwardTimeout { get; init; } = ForwardTimeoutFor(new KvNodeOptions().OperationTimeout, KvNodeOptions.DefaultElectionTimeout);

    /// <summary>True for the calls that hand leadership over themselves (etcd <c>MoveLeader</c>, HTTP
    /// <c>/admin/move-leader</c>): the leader change they cause is their success, so a forwarded one is not abandoned
    /// on it (<see cref="LeaderChange"/> is not watched for them; the forwarding bound still applies).</summary>
    public static bool HandsOverLeadership(string methodOrPath)
        => methodOrPath is "/etcdserverpb.Maintenance/MoveLeader" or "/admin/move-leader";

    /// <summary>Forwarded calls (gRPC method or HTTP path) a follower answers without waiting to apply them
    /// (<see cref="CatchUpAsync"/>): membership changes, which may take this member itself out of the configuration
    /// (removed, moved) so that it would learn their commit late or never, and a leadership transfer.</summary>
    public static bool AnswersWithoutCatchUp(string methodOrPath)
        => HandsOverLeadership(methodOrPath) || MembershipCalls.Contains(methodOrPath)
        || methodOrPath.StartsWith("/cluster/members", StringComparison.Ordinal);

    private static readonly IReadOnlySet<string> MembershipCalls = new HashSet<string>(StringComparer.Ordinal)
    {
        "/raftkv.v1.Cluster/AddMember", "/raftkv.v1.Cluster/RemoveMember", "/raftkv.v1.Cluster/PromoteMember",
        "/etcdserverpb.Cluster/MemberAdd", "/etcdserverpb.Cluster/MemberRemove", "/etcdserverpb.Cluster/MemberPromote", "/etcdserverpb.Cluster/MemberUpdate",
    };

    /// <summary>
    /// A token cancelled as soon as the leader of <paramref name="route"/> (a <see cref="LeaderRouteKind.Forward"/>
    /// route) is no longer the leader this node knows: another member was elected, an election started, or this
    /// node leads (<see cref="IKvNode.LeaderChangeToken"/>). Already cancelled when that happened before the call:
    /// the caller routes again (nothing was sent). Event-driven: no timer, no polling.
    /// </summary>
    public CancellationToken LeaderChange(LeaderRoute route)
    {
        var change = node.LeaderChangeToken; // read before the check: a change after it cancels this token
        return node.IsLeader || node.LeaderId != route.Leader?.Id ? new CancellationToken(canceled: true) : change;
    }

    /// <summary>The Raft index this node has applied: what a leader answering a forwarded write tells the follower
    /// that sent it (<see cref="CatchUpAsync"/>).</summary>
    public long AppliedIndex => node.HeaderInfo().AppliedIndex;

    /// <summary>
    /// A follower's last step of a forwarded write: waits until it has applied <paramref name="leaderApplied"/>, the
    /// leader's applied index when the leader answered, so the write is visible on this member — to a serializable
    /// read, a watch, and the auth gate's next decision (after <c>AuthDisable</c> sent here, a call without a token
    /// must not be judged on the old state) — as each etcd member applies a proposal before answering it. Bounded by
    /// <paramref name="deadline"/> (the forwarded call's): a member that has not caught up by then answers anyway,
    /// since the write itself succeeded. The caller's cancellation throws.
    /// </summary>
    public async ValueTask CatchUpAsync(long leaderApplied, DateTime deadline, CancellationToken cancellationToken)
    {
        var left = deadline - DateTime.UtcNow;
        if (node.HeaderInfo().AppliedIndex >= leaderApplied || left <= TimeSpan.Zero)
        {
            return;
        }

        using var bound = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bound.CancelAfter(left);
        try
        {
            await node.WaitForAppliedAsync(leaderApplied, bound.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // The bound passed: answer the write (it succeeded) without its effect visible here yet.
        }
    }

    /// <summary>True when this node holds leadership: <see cref="Route"/> and <see cref="RouteAsync"/> answer
    /// <see cref="LeaderRouteKind.Local"/> at once, forwarded or not.</summary>
    public bool IsLeader => node.IsLeader;

    /// <summary><see cref="Route"/>, but when no leader is known yet, polls until one is, the call is
    /// cancelled (its deadline), or <see cref="LeaderWait"/> has passed.</summary>
    /// <param name="alreadyForwarded">The call carries the front door's forwarded marker.</param>
    /// <param name="address">The leader's address for this front door (HTTP or gRPC).</param>
    /// <param name="cancellationToken">The call's cancellation (its deadline).</param>
    /// <param name="unreachable">The id of a leader this node just failed to connect to (the hop was not
    /// delivered: it died or stepped down), or null: a route to it counts as no leader yet, so the call
    /// waits for the election that follows and goes to the new leader (<see cref="GrpcLeaderForwarder"/>).</param>
    public async ValueTask<LeaderRoute> RouteAsync(bool alreadyForwarded, Func<MemberInfo, string> address, CancellationToken cancellationToken, long? unreachable = null)
    {
        var route = Route(alreadyForwarded, address);
        var deadline = System.Diagnostics.Stopwatch.GetTimestamp() + (long)(LeaderWait.TotalSeconds * System.Diagnostics.Stopwatch.Frequency);
        while ((route.Kind == LeaderRouteKind.NoLeader || (unreachable is { } gone && route.Leader?.Id == gone))
            && System.Diagnostics.Stopwatch.GetTimestamp() < deadline && !cancellationToken.IsCancellationRequested)
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
    /// <remarks>A node that names itself leader but does not hold leadership (DotNext publishes the
    /// local member as leader a moment before it grants the leadership token, and keeps it a moment after
    /// stepping down) is between states: that counts as no leader (<see cref="LeaderRouteKind.NoLeader"/>,
    /// so <see cref="RouteAsync"/> waits), never as a leader to forward to — forwarding there would be a
    /// hop to itself, refused by its own loop guard. Likewise a forwarded call that reaches a node knowing
    /// no leader waits: the node may be the one being elected.</remarks>
    public LeaderRoute Route(bool alreadyForwarded, Func<MemberInfo, string> address)
    {
        if (node.IsLeader)
        {
            return new LeaderRoute(LeaderRouteKind.Local, node.NodeId, null, string.Empty);
        }

        var status = node.GetStatus();
        if (status.Leader is not { } leader || leader.Id == status.NodeId)
        {
            return new LeaderRoute(LeaderRouteKind.NoLeader, status.NodeId, null, string.Empty);
        }

        if (alreadyForwarded)
        {
            return new LeaderRoute(LeaderRouteKind.AlreadyForwarded, status.NodeId, leader, string.Empty);
        }

        return address(leader) is { Length: > 0 } a
            ? new LeaderRoute(LeaderRouteKind.Forward, status.NodeId, leader, a)
            : new LeaderRoute(LeaderRouteKind.NoLeader, status.NodeId, leader, string.Empty);
    }
}
