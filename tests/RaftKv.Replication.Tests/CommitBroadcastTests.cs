using System.Text;
using RaftKv.Replication.Api;

namespace RaftKv.Replication.Tests;

/// <summary>
/// KvNode.CommitBroadcast.cs on real in-process replicas: once writes pause, the leader starts one replication round
/// that tells the followers its commit index (DotNext would tell them only with the next heartbeat), so a follower
/// applies the last write of a burst — its watchers and serializable reads see it — without waiting for that heartbeat.
/// </summary>
public sealed class CommitBroadcastTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task AfterTheLastWriteOfABurstTheLeaderTellsTheFollowersItsCommitIndex()
    {
        await using var c = await TestCluster.StartAsync(3);
        var leader = await c.WaitForLeaderAsync();
        var follower = c.Running.First(n => n != leader);
        var rounds = leader.ReplicationNudgeRounds;
        for (var i = 0; i < 5; i++)
        {
            await c.PutAsync("burst/" + i, "v" + i);
        }

        var written = leader.GetStatus().CommitIndex;
        await Eventually.TrueAsync(() => leader.ReplicationNudgeRounds > rounds, Deadline, "a replication round after the burst");
        await Eventually.TrueAsync(() => follower.GetStatus().AppliedIndex >= written, Deadline, "the follower applied the burst");
        var last = await follower.GetAsync(Encoding.UTF8.GetBytes("burst/4"), ReadConsistency.Serializable);
        Assert.Equal("v4", Encoding.UTF8.GetString(last!.Value.Value.Span));
    }
}
