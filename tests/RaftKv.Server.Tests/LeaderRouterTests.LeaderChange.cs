using RaftKv.Replication;
using RaftKv.Server.Pipeline;

namespace RaftKv.Server.Tests;

/// <summary>
/// <see cref="LeaderRouter.LeaderChange"/>: the token a forwarder links to its call ends when the leader it routed
/// to is no longer the one this node knows (another leader, an election, or this node leads), and is already
/// cancelled when that happened before the call was sent; the bounds follow the configured timeouts.
/// </summary>
public sealed partial class LeaderRouterTests
{
    [Fact]
    public void TheLeaderChangeTokenEndsWhenAnotherLeaderOrNoneIsKnown()
    {
        foreach (var next in new[] { Leader with { Id = 3 }, null })
        {
            var node = FollowerNode.Create();
            var proxy = (FollowerNode)(object)node;
            proxy.ChangeLeader(Leader);
            var router = new LeaderRouter(node);
            var route = router.Route(false, m => m.GrpcAddress);
            var change = router.LeaderChange(route);
            Assert.False(change.IsCancellationRequested, "cancelled while the leader it routed to still leads");

            proxy.ChangeLeader(next); // elected elsewhere, or an election started (no leader)
            Assert.True(change.IsCancellationRequested);
        }
    }

    [Fact]
    public void ARouteThatWentStaleBeforeTheCallGetsAnAlreadyCancelledToken()
    {
        var node = FollowerNode.Create();
        var proxy = (FollowerNode)(object)node;
        proxy.ChangeLeader(Leader);
        var router = new LeaderRouter(node);
        var route = router.Route(false, m => m.GrpcAddress);

        proxy.ChangeLeader(Leader with { Id = 3 }); // between routing and sending: the new epoch's token is live
        Assert.True(router.LeaderChange(route).IsCancellationRequested, "a call routed to the old leader would wait on the new epoch");

        proxy.ChangeLeader(Leader);
        proxy.Leading = true; // this node took over
        Assert.True(router.LeaderChange(route).IsCancellationRequested);
    }

    [Fact]
    public void TheBoundsFollowTheElectionAndOperationTimeouts()
    {
        // Defaults: ELECTION_TIMEOUT_MS 1000 (elections 1–2 s), 5 s operation timeout.
        var defaults = new LeaderRouter(FollowerNode.Create());
        Assert.Equal(TimeSpan.FromSeconds(3), defaults.LeaderWait); // 1.5 × the upper election timeout
        Assert.Equal(TimeSpan.FromSeconds(7), defaults.ForwardTimeout); // etcd's request timeout: 5 s + 2 × election timeout

        var slow = LeaderRouter.For(FollowerNode.Create(), new KvNodeOptions
        {
            ElectionTimeoutLower = TimeSpan.FromSeconds(4),
            ElectionTimeoutUpper = TimeSpan.FromSeconds(8),
            OperationTimeout = TimeSpan.FromSeconds(5),
        });
        Assert.Equal(TimeSpan.FromSeconds(12), slow.LeaderWait);
        Assert.Equal(TimeSpan.FromSeconds(13), slow.ForwardTimeout);
    }
}
