namespace RaftKv.Replication.Tests;

/// <summary>
/// A voter removed from the cluster learns it (<see cref="KvNode.Removed"/>; the server then stops, as etcd's member
/// does) — also when it was down during the removal — and a voter that is only cut off from a leader does not take
/// itself for removed.
/// </summary>
[Collection("cluster")]
public sealed class RemovedMemberTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task MemberRemovedWhileDownLearnsItFromThePeersWhenItRestarts()
    {
        await using var c = await TestCluster.StartAsync(3);
        var leader = await c.WaitForLeaderAsync();
        await c.PutAsync("k", "before");
        var removed = c.Running.First(n => n != leader).NodeId;
        await c.StopNodeAsync(removed);

        await c.OnLeaderAsync(async l =>
        {
            await l.RemoveMemberAsync(removed);
            return l;
        });
        await c.PutAsync("k", "after");

        // Its own persisted configuration still lists it, and no leader replicates to it any more: the peers tell it.
        await c.StartNodeAsync(removed);
        await c.Nodes[removed]!.Removed.WaitAsync(Deadline);
        Assert.All(c.Running.Where(n => n.NodeId != removed), n => Assert.False(n.Removed.IsCompleted));
        await c.PutAsync("k", "still-serving"); // the two remaining members go on
    }

    [Fact]
    public async Task MemberWithoutAQuorumIsNotRemoved()
    {
        await using var c = await TestCluster.StartAsync(3);
        var leader = await c.WaitForLeaderAsync();
        await c.PutAsync("k", "v");
        var survivor = c.Running.First(n => n != leader);
        foreach (var id in c.Running.Where(n => n != survivor).Select(n => n.NodeId).ToList())
        {
            await c.StopNodeAsync(id);
        }

        // Leaderless long enough to ask the others, more often than a removal needs (twice, a second apart): nobody
        // answers, which is no removal.
        await Eventually.TrueAsync(() => survivor.MembershipAsks >= 4, Deadline, "the leaderless survivor asked the others four times");
        Assert.False(survivor.Removed.IsCompleted);

        var back = c.Nodes.Keys.First(id => id != survivor.NodeId && c.Nodes[id] is null);
        await c.StartNodeAsync(back);
        await c.PutAsync("k", "quorum-again");
        Assert.All(c.Running, n => Assert.False(n.Removed.IsCompleted));
    }
}
