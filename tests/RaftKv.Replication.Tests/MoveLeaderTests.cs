using RaftKv.Replication.Api;

namespace RaftKv.Replication.Tests;

/// <summary>
/// Leadership transfer (etcd's MoveLeader) on real in-process replicas over loopback: the named member
/// leads afterwards, nobody is left standing by, writes keep working, and bad targets are refused.
/// </summary>
public sealed class MoveLeaderTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task LeadershipMovesToTheNamedMemberAndBack()
    {
        await using var c = await TestCluster.StartAsync(3);
        await c.PutAsync("before", "1");
        var first = await c.WaitForLeaderAsync();
        foreach (var target in c.Running.Where(n => n != first).Select(n => n.NodeId).Append(first.NodeId).ToList())
        {
            var leader = await c.WaitForLeaderAsync();
            var epochs = c.Running.Select(n => n.LeaderChangeToken).ToList();
            await leader.MoveLeaderAsync(target);
            // The first member found leading may be a stale one on a loaded machine: wait for the target.
            await Eventually.TrueAsync(() => c.Running.Any(n => n.NodeId == target && n.IsLeader), Deadline, $"member {target} leads");

            // Every member saw the leader change (IKvNode.LeaderChangeToken: what a follower's forwarder waits on).
            await Eventually.TrueAsync(() => epochs.All(e => e.IsCancellationRequested), Deadline, "every member's leader epoch ended with the transfer");

            // Every hold has ended: no member is left unable to campaign.
            await Eventually.TrueAsync(() => c.Running.All(n => n.GetStatus().Role != "standby"), Deadline, "no member stays standby after the transfer");
            await c.PutAsync("after-" + target, "1");
        }

        await c.AssertReplicasIdenticalAsync();
    }

    [Fact]
    public async Task BadTargetsAndFollowersAreRefused()
    {
        await using var c = await TestCluster.StartAsync(3);
        var leader = await c.WaitForLeaderAsync();
        Assert.Equal(42, (await Assert.ThrowsAsync<BadLeaderTransfereeException>(() => leader.MoveLeaderAsync(42))).TargetId);
        await Assert.ThrowsAsync<BadLeaderTransfereeException>(() => leader.MoveLeaderAsync(0));
        await leader.MoveLeaderAsync(leader.NodeId); // itself: nothing to do
        Assert.True(leader.IsLeader);

        var follower = c.Running.First(n => n != leader);
        await Assert.ThrowsAsync<NotLeaderException>(() => follower.MoveLeaderAsync(leader.NodeId));
        await Assert.ThrowsAsync<UnavailableException>(() => leader.HoldElectionsAsync(TimeSpan.FromSeconds(1)));
    }

    [Fact]
    public async Task AHeldMemberCampaignsAgainOnceItsHoldExpires()
    {
        await using var c = await TestCluster.StartAsync(3);
        var leader = await c.WaitForLeaderAsync();
        var held = c.Running.First(n => n != leader);
        await held.HoldElectionsAsync(TimeSpan.FromMilliseconds(300));
        Assert.Equal("standby", held.GetStatus().Role);
        await Eventually.TrueAsync(() => held.GetStatus().Role != "standby", Deadline, "the hold expires by itself");

        // Held again, then released at once.
        await held.HoldElectionsAsync(TimeSpan.FromMinutes(5));
        await held.HoldElectionsAsync(TimeSpan.Zero);
        Assert.NotEqual("standby", held.GetStatus().Role);
    }
}
