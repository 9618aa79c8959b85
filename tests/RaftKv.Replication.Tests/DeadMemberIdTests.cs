namespace RaftKv.Replication.Tests;

/// <summary>
/// A member that is down while the others restart is still listed under its id and removed by it (etcd's
/// <c>member remove &lt;id&gt;</c> of a dead machine): the ids come from members' metadata, which a dead member cannot
/// serve, so each node remembers them (<see cref="MemberMetaCache"/>). Before, it was listed under id 0 and the
/// removal answered "no member with id N".
/// </summary>
[Collection("cluster")]
public sealed class DeadMemberIdTests
{
    [Fact]
    public async Task ADeadMemberIsRemovedByIdAfterTheOthersRestarted()
    {
        await using var c = await TestCluster.StartAsync(3);
        var leader = await c.WaitForLeaderAsync();
        await c.PutAsync("k", "v");
        var dead = c.Running.First(n => n != leader).NodeId;
        await c.StopNodeAsync(dead);
        foreach (var id in c.Running.Select(n => n.NodeId).ToList())
        {
            await c.StopNodeAsync(id);
        }

        foreach (var id in c.Nodes.Keys.Where(id => id != dead).ToList())
        {
            await c.StartNodeAsync(id);
        }

        await c.PutAsync("k", "after-restart");
        var listed = (await c.WaitForLeaderAsync()).GetStatus().Members;
        Assert.Contains(listed, m => m.Id == dead);
        await c.OnLeaderAsync(async l =>
        {
            await l.RemoveMemberAsync(dead);
            return 0;
        });
    }

    [Fact]
    public async Task ANodeRebuiltWhileAnotherWasDownLearnsThatMembersIdFromThePeers()
    {
        // A node that starts with an empty data directory while another member is down never fetches that member's id;
        // it asks the members it reaches (KvNode.MemberIds.cs). Before, it listed the dead member under id 0.
        await using var c = await TestCluster.StartAsync(3);
        var survivor = await c.WaitForLeaderAsync();
        await c.PutAsync("k", "v");
        await Eventually.TrueAsync(() => survivor.GetStatus().Members.All(m => m.Id > 0), TimeSpan.FromSeconds(30), "the leader knows every id");
        var others = c.Nodes.Keys.Where(id => id != survivor.NodeId).Order().ToList();
        var (dead, rebuilt) = (others[0], others[1]);
        await c.StopNodeAsync(dead);
        await c.StopNodeAsync(rebuilt);
        c.WipeNode(rebuilt);
        await c.StartNodeAsync(rebuilt); // rebuilt from the survivor, which its vote makes leader
        await c.PutAsync("k", "after-rebuild");
        var node = c.Nodes[rebuilt]!;
        await Eventually.TrueAsync(
            () => node.GetStatus().Members.Any(m => m.Id == dead && !m.Available),
            TimeSpan.FromSeconds(30),
            $"the rebuilt node lists the dead member under its id (it lists {string.Join(", ", node.GetStatus().Members.Select(m => $"{m.Id}@{m.RaftAddress}"))})");
        Assert.DoesNotContain(node.GetStatus().Members, m => m.Id == 0);
    }
}
