using RaftKv.Replication.Api;
using DotNextNotLeader = DotNext.Net.Cluster.Consensus.Raft.NotLeaderException;

namespace RaftKv.Replication.Tests;

/// <summary>
/// A membership change that loses leadership half-way (DotNext's <c>NotLeaderException</c>) is a plain "not the leader"
/// only when nothing was appended during it; otherwise the next leader may commit it, and the caller is told the outcome
/// is unknown (KvNode.ConfigurationChange.cs). Before, both were "not the leader" (etcd's "no leader"), and
/// <c>etcdctl member remove</c> of the leader, retried with the next leader's id, removed two members.
/// </summary>
[Collection("cluster")]
public sealed class ConfigurationChangeOutcomeTests
{
    [Fact]
    public async Task LeadershipLostAfterAnAppendIsAnUnknownOutcome()
    {
        await using var c = await TestCluster.StartAsync(1);
        var node = await c.WaitForLeaderAsync();
        var e = await Assert.ThrowsAsync<UnavailableException>(() => node.ChangeConfigurationAsync(
            async () =>
            {
                await c.PutAsync("k", "v"); // an entry appended during the change, as DotNext's own empty entry and configuration are
                throw new DotNextNotLeader();
            },
            "a change"));
        Assert.True(e.OutcomeUnknown, e.Message);
        Assert.IsType<DotNextNotLeader>(e.InnerException);
    }

    [Fact]
    public async Task LeadershipLostBeforeAnyAppendIsNotLeader()
    {
        await using var c = await TestCluster.StartAsync(1);
        var node = await c.WaitForLeaderAsync();
        await Assert.ThrowsAsync<NotLeaderException>(() => node.ChangeConfigurationAsync(() => Task.FromException<bool>(new DotNextNotLeader()), "a change"));
    }

    [Fact]
    public async Task ARemovalOfAnUnknownIdIsMemberNotFound()
    {
        await using var c = await TestCluster.StartAsync(1);
        var node = await c.WaitForLeaderAsync();
        var e = await Assert.ThrowsAsync<MemberNotFoundException>(() => node.RemoveMemberAsync(424242));
        Assert.Equal(424242, e.MemberId);
    }
}
