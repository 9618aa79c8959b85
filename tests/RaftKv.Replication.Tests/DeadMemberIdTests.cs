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
}
