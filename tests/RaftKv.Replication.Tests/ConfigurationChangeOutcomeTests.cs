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
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

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
            "a change",
            CancellationToken.None));
        Assert.True(e.OutcomeUnknown, e.Message);
        Assert.IsType<DotNextNotLeader>(e.InnerException);
    }

    [Fact]
    public async Task LeadershipLostBeforeAnyAppendIsNotLeader()
    {
        await using var c = await TestCluster.StartAsync(1);
        var node = await c.WaitForLeaderAsync();
        await Assert.ThrowsAsync<NotLeaderException>(() => node.ChangeConfigurationAsync(() => Task.FromException<bool>(new DotNextNotLeader()), "a change", CancellationToken.None));
    }

    /// <summary>
    /// Regression (chaos membership seed 43): a removal returned, the removed member and the leader were stopped right
    /// after, and the two members left never elected a leader — they had not yet learned that the new configuration
    /// committed, so they still counted four voters, two of them gone. A change now returns only once a majority of
    /// the new configuration knows it committed (KvNode.ConfigurationChange.cs). The election timeout is long (2 s, a
    /// heartbeat every second) so that without that the leader's next round would come too late to tell them.
    /// </summary>
    [Fact]
    public async Task TheMembersLeftAfterARemovalElectALeaderWhenTheLeaderStopsAtOnce()
    {
        await using var c = await TestCluster.StartAsync(4, electionTimeout: TimeSpan.FromSeconds(2));
        var leader = await c.WaitForLeaderAsync();
        await c.PutAsync("k", "before");
        var removed = c.Running.First(n => n != leader).NodeId;
        await Eventually.TrueAsync(() => c.Running.All(n => n.GetStatus().Members.Any(m => m.Id == removed)), Deadline, "every member knows the id of the member to remove");

        await leader.RemoveMemberAsync(removed);
        await Task.WhenAll(c.StopNodeAsync(leader.NodeId), c.StopNodeAsync(removed)); // an operator replacing both machines

        var next = await c.WaitForLeaderAsync(Deadline);
        Assert.DoesNotContain(next.GetStatus().Members, m => m.Id == removed);
        await c.PutAsync("k", "after"); // the two members left are a majority of the three
    }

    /// <summary>etcd's <c>member remove</c> of the leader's own id: done (no error), and the others go on — also when
    /// the removed leader is stopped as the call returns and one more member is lost (chaos membership seed 56: the
    /// others had not yet applied the change, and the two left counted four voters).</summary>
    [Fact]
    public async Task RemovingTheLeaderItselfSucceedsAndTheOthersGoOnWithoutItAndOneMore()
    {
        await using var c = await TestCluster.StartAsync(4, electionTimeout: TimeSpan.FromSeconds(1));
        var leader = await c.WaitForLeaderAsync();
        await c.PutAsync("k", "before");

        await leader.RemoveMemberAsync(leader.NodeId);
        var lost = c.Running.First(n => n != leader).NodeId;
        await Task.WhenAll(c.StopNodeAsync(leader.NodeId), c.StopNodeAsync(lost));

        var next = await c.WaitForLeaderAsync(Deadline);
        Assert.DoesNotContain(next.GetStatus().Members, m => m.Id == leader.NodeId);
        await c.PutAsync("k", "after"); // two of the three left
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
