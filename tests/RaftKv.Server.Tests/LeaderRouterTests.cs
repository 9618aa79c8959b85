using System.Reflection;
using RaftKv.Replication.Api;
using RaftKv.Server.Pipeline;
using MemberInfo = RaftKv.Replication.Api.MemberInfo;

namespace RaftKv.Server.Tests;

/// <summary>
/// <see cref="LeaderRouter.RouteAsync"/>: a follower that knows no leader (an election under way) waits
/// for one instead of answering "no leader" at once, and still answers within its bound (or the caller's
/// cancellation) when none appears. A node that names itself leader without holding leadership (between
/// states), a forwarded call on a node that knows no leader, and a leader this node could not connect to
/// count as no leader yet: waited on, never forwarded to.
/// </summary>
public sealed partial class LeaderRouterTests
{
    private static readonly MemberInfo Leader = new(1, "127.0.0.1:7001", "127.0.0.1:50051", "127.0.0.1:8081", IsLeader: true, IsLocal: false, Available: true);

    /// <summary>The node itself (id 2) as DotNext lists it while it becomes, or stops being, the leader.</summary>
    private static readonly MemberInfo Self = new(2, "127.0.0.1:7002", "127.0.0.1:50052", "127.0.0.1:8082", IsLeader: true, IsLocal: true, Available: true);

    [Fact]
    public async Task AFollowerWaitsForALeaderToBeElected()
    {
        var node = FollowerNode.Create();
        var router = new LeaderRouter(node) { LeaderWait = TimeSpan.FromMinutes(5) };
        var routing = router.RouteAsync(alreadyForwarded: false, m => m.HttpAddress, CancellationToken.None).AsTask();
        await ((FollowerNode)(object)node).Polled.Task.WaitAsync(TimeSpan.FromMinutes(1)); // it asked again and again
        Assert.False(routing.IsCompleted, "answered before a leader was known");

        ((FollowerNode)(object)node).Leader = Leader; // the election ends
        var route = await routing.WaitAsync(TimeSpan.FromMinutes(1));
        Assert.Equal(LeaderRouteKind.Forward, route.Kind);
        Assert.Equal("127.0.0.1:8081", route.Address);
    }

    [Fact]
    public async Task WithoutALeaderItAnswersNoLeaderAfterItsBoundOrTheCallersDeadline()
    {
        var node = FollowerNode.Create();
        var bounded = await new LeaderRouter(node) { LeaderWait = TimeSpan.FromMilliseconds(50) }.RouteAsync(false, m => m.GrpcAddress, CancellationToken.None);
        Assert.Equal(LeaderRouteKind.NoLeader, bounded.Kind);

        using var cancelled = new CancellationTokenSource(TimeSpan.FromMilliseconds(50));
        var byDeadline = await new LeaderRouter(node) { LeaderWait = TimeSpan.FromMinutes(5) }.RouteAsync(false, m => m.GrpcAddress, cancelled.Token).AsTask().WaitAsync(TimeSpan.FromMinutes(1));
        Assert.Equal(LeaderRouteKind.NoLeader, byDeadline.Kind);
    }

    [Fact]
    public async Task AForwardedCallIsNeverWaitedOnOrForwardedAgain()
    {
        var node = FollowerNode.Create();
        ((FollowerNode)(object)node).Leader = Leader;
        var route = await new LeaderRouter(node) { LeaderWait = TimeSpan.FromMinutes(5) }.RouteAsync(alreadyForwarded: true, m => m.GrpcAddress, CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromMinutes(1));
        Assert.Equal(LeaderRouteKind.AlreadyForwarded, route.Kind);
    }

    [Fact]
    public async Task ANodeNamingItselfLeaderWaitsUntilItHoldsLeadershipInsteadOfForwardingToItself()
    {
        var node = FollowerNode.Create();
        var proxy = (FollowerNode)(object)node;
        proxy.Leader = Self;
        foreach (var forwarded in new[] { false, true })
        {
            proxy.Leading = false;
            Assert.Equal(LeaderRouteKind.NoLeader, new LeaderRouter(node).Route(forwarded, m => m.GrpcAddress).Kind);
            var routing = new LeaderRouter(node) { LeaderWait = TimeSpan.FromMinutes(5) }.RouteAsync(forwarded, m => m.GrpcAddress, CancellationToken.None).AsTask();
            await proxy.Polled.Task.WaitAsync(TimeSpan.FromMinutes(1));
            Assert.False(routing.IsCompleted, "answered while the node was between states");
            proxy.Leading = true; // DotNext grants the leadership
            Assert.Equal(LeaderRouteKind.Local, (await routing.WaitAsync(TimeSpan.FromMinutes(1))).Kind);
            proxy.Rearm();
        }
    }

    [Fact]
    public async Task AForwardedCallWaitsForALeaderWhenNoneIsKnown()
    {
        var node = FollowerNode.Create();
        var routing = new LeaderRouter(node) { LeaderWait = TimeSpan.FromMinutes(5) }.RouteAsync(alreadyForwarded: true, m => m.GrpcAddress, CancellationToken.None).AsTask();
        await ((FollowerNode)(object)node).Polled.Task.WaitAsync(TimeSpan.FromMinutes(1));
        Assert.False(routing.IsCompleted, "refused before the election ended");
        ((FollowerNode)(object)node).Leader = Leader; // another node won: refuse, naming it
        var route = await routing.WaitAsync(TimeSpan.FromMinutes(1));
        Assert.Equal(LeaderRouteKind.AlreadyForwarded, route.Kind);
        Assert.Equal(1, route.Leader?.Id);
    }

    [Fact]
    public async Task AnUnreachableLeaderIsWaitedOutUntilTheNextOneIsElected()
    {
        var node = FollowerNode.Create();
        var proxy = (FollowerNode)(object)node;
        proxy.Leader = Leader;
        var routing = new LeaderRouter(node) { LeaderWait = TimeSpan.FromMinutes(5) }.RouteAsync(false, m => m.GrpcAddress, CancellationToken.None, unreachable: 1).AsTask();
        await proxy.Polled.Task.WaitAsync(TimeSpan.FromMinutes(1));
        Assert.False(routing.IsCompleted, "routed to the leader it could not reach");
        proxy.Leader = Leader with { Id = 3, GrpcAddress = "127.0.0.1:50053" };
        var route = await routing.WaitAsync(TimeSpan.FromMinutes(1));
        Assert.Equal(LeaderRouteKind.Forward, route.Kind);
        Assert.Equal("127.0.0.1:50053", route.Address);

        var bounded = await new LeaderRouter(node) { LeaderWait = TimeSpan.FromMilliseconds(50) }.RouteAsync(false, m => m.GrpcAddress, CancellationToken.None, unreachable: 3);
        Assert.Equal(3, bounded.Leader?.Id); // none elected within the bound: the caller sees the same leader and gives up
    }

    /// <summary>A follower as the router sees it (IsLeader, GetStatus); every other member of the node throws.</summary>
    public class FollowerNode : DispatchProxy
    {
        private int _statusCalls;
        private CancellationTokenSource _epoch = new();

        public volatile MemberInfo? Leader;

        /// <summary>Whether the node holds leadership (<see cref="IKvNode.IsLeader"/>).</summary>
        public volatile bool Leading;

        /// <summary>Completed once the node's status was asked for a few times (the router is polling).</summary>
        public TaskCompletionSource Polled { get; private set; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Another leader (or none) as DotNext reports it: the leader epoch ends (<see cref="IKvNode.LeaderChangeToken"/>).</summary>
        public void ChangeLeader(MemberInfo? leader)
        {
            Leader = leader;
            Interlocked.Exchange(ref _epoch, new CancellationTokenSource()).Cancel();
        }

        /// <summary>Starts counting status calls again (a new <see cref="Polled"/>).</summary>
        public void Rearm()
        {
            Polled = new(TaskCreationOptions.RunContinuationsAsynchronously);
            Interlocked.Exchange(ref _statusCalls, 0);
        }

        public static IKvNode Create() => DispatchProxy.Create<IKvNode, FollowerNode>();

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args) => targetMethod?.Name switch
        {
            "get_IsLeader" => Leading,
            "get_NodeId" => 2L,
            "GetStatus" => Status(),
            "get_LeaderChangeToken" => Volatile.Read(ref _epoch).Token,
            "get_LeaderId" => Leader?.Id,
            _ => throw new NotSupportedException(targetMethod?.Name),
        };

        private NodeStatus Status()
        {
            if (Interlocked.Increment(ref _statusCalls) >= 3)
            {
                Polled.TrySetResult();
            }

            return new NodeStatus { NodeId = 2, Role = Leading ? "leader" : Leader is null ? "candidate" : "follower", Leader = Leader, LeaderId = Leader?.Id };
        }
    }
}
