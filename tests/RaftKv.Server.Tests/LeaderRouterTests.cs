using System.Reflection;
using RaftKv.Replication.Api;
using RaftKv.Server.Pipeline;
using MemberInfo = RaftKv.Replication.Api.MemberInfo;

namespace RaftKv.Server.Tests;

/// <summary>
/// <see cref="LeaderRouter.RouteAsync"/>: a follower that knows no leader (an election under way) waits
/// for one instead of answering "no leader" at once, and still answers within its bound (or the caller's
/// cancellation) when none appears.
/// </summary>
public sealed class LeaderRouterTests
{
    private static readonly MemberInfo Leader = new(1, "127.0.0.1:7001", "127.0.0.1:50051", "127.0.0.1:8081", IsLeader: true, IsLocal: false, Available: true);

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

    /// <summary>A follower as the router sees it (IsLeader, GetStatus); every other member of the node throws.</summary>
    public class FollowerNode : DispatchProxy
    {
        private int _statusCalls;

        public volatile MemberInfo? Leader;

        /// <summary>Completed once the node's status was asked for a few times (the router is polling).</summary>
        public TaskCompletionSource Polled { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public static IKvNode Create() => DispatchProxy.Create<IKvNode, FollowerNode>();

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args) => targetMethod?.Name switch
        {
            "get_IsLeader" => false,
            "get_NodeId" => 2L,
            "GetStatus" => Status(),
            _ => throw new NotSupportedException(targetMethod?.Name),
        };

        private NodeStatus Status()
        {
            if (Interlocked.Increment(ref _statusCalls) >= 3)
            {
                Polled.TrySetResult();
            }

            return new NodeStatus { NodeId = 2, Role = Leader is null ? "candidate" : "follower", Leader = Leader, LeaderId = Leader?.Id };
        }
    }
}
