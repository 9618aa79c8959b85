using System.Text;
using RaftKv.Replication.Api;

namespace RaftKv.Replication.Tests;

/// <summary>
/// Follower linearizable reads through the leader's read index (KvNode.FollowerReadIndex.cs) on real in-process
/// replicas over loopback (the leader reached in process, as the server does over <c>Cluster/ReadIndex</c>): every
/// follower read sees the writes acknowledged before it, the leader answers from its lease, and READ_LEASE=false keeps
/// DotNext's barrier.
/// </summary>
public sealed class FollowerReadIndexTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    private static byte[] B(string s) => Encoding.UTF8.GetBytes(s);

    private static bool LeadershipMoved(KvNode leader, long term) => leader.GetStatus() is var s && (s.Term != term || s.Role != "leader");

    private static async Task<string?> ReadAsync(KvNode node, string key)
        => await node.GetAsync(B(key), ReadConsistency.Linearizable) is { } e ? Encoding.UTF8.GetString(e.Value.Span) : null;

    [Fact]
    public async Task AFollowerReadsWithTheLeadersIndexAndSeesEveryAcknowledgedWrite()
    {
        await using var c = await TestCluster.StartAsync(3);
        var leader = await c.WaitForLeaderAsync();
        var follower = c.Running.First(n => n != leader);
        for (var i = 0; follower.FollowerReadIndexReads == 0; i++)
        {
            Assert.True(i < 10_000, "the follower never read with the leader's read index");
            await c.PutAsync("k", "v" + i);
            Assert.Equal("v" + i, await ReadAsync(follower, "k")); // acknowledged by the leader, then read on a follower: seen
        }

        // From now on each follower read asks the leader (no barrier round of its own) and sees the write before it.
        var before = (Reads: follower.FollowerReadIndexReads, Rounds: follower.QuorumReads, Served: leader.ReadIndexServed);
        for (var i = 0; i < 50; i++)
        {
            await c.PutAsync("k", "w" + i);
            Assert.Equal("w" + i, await ReadAsync(follower, "k"));
        }

        Assert.Equal(before.Reads + 50, follower.FollowerReadIndexReads);
        Assert.Equal(before.Rounds, follower.QuorumReads); // no DotNext barrier on the follower
        Assert.Equal(0, follower.FollowerReadIndexFallbacks);
        Assert.True(leader.ReadIndexServed >= before.Served + 50);
        Assert.True(leader.LeaseReads > 0, "the leader never answered from its lease");
    }

    [Fact]
    public async Task AReadIndexAboveTheFollowersCommitIndexStartsAReplicationRoundThatTellsIt()
    {
        await using var c = await TestCluster.StartAsync(3);
        var leader = await c.WaitForLeaderAsync();
        await c.PutAsync("k", "v");
        var term = leader.GetStatus().Term;
        var follower = c.Running.First(n => n != leader);

        // A follower already at the read index: no round. (Counted apart from the rounds: the put's commit broadcast,
        // KvNode.CommitBroadcast.cs, starts one 2 ms after the put, which may fall during this call.)
        var nudges = leader.ReadIndexNudges;
        var rounds = leader.ReplicationNudgeRounds;
        var index = (await leader.ServeReadIndexAsync(term, long.MaxValue)).Index;
        Assert.Equal(nudges, leader.ReadIndexNudges);

        // A follower behind it (0: an older release, or a commit it has not heard of): a round starts at once (the
        // counter moves synchronously when a round starts), and the followers learn the leader's commit index from it.
        index = (await leader.ServeReadIndexAsync(term, 0)).Index;
        Assert.Equal(nudges + 1, leader.ReadIndexNudges);
        Assert.True(leader.ReplicationNudgeRounds > rounds, "no replication round for a follower behind the read index");
        await Eventually.TrueAsync(() => follower.GetStatus().CommitIndex >= index, Deadline, "the follower learned the read index as committed");
    }

    [Fact]
    public async Task ALeaderOfAnotherTermRefusesAndTheLeaseOffKeepsDotNextsBarrier()
    {
        await using (var c = await TestCluster.StartAsync(3))
        {
            // On a loaded machine leadership may move during the checks (300 ms election timeout): then the leader of
            // the checked term answers Unavailable or NotLeader, and the checks run again on the new leader.
            for (var attempt = 1; ; attempt++)
            {
                var leader = await c.WaitForLeaderAsync();
                var term = leader.GetStatus().Term;
                try
                {
                    await Assert.ThrowsAsync<NotLeaderException>(() => leader.ServeReadIndexAsync(term + 1, 0));
                    await Assert.ThrowsAsync<NotLeaderException>(() => c.Running.First(n => n != leader).ServeReadIndexAsync(term, 0));
                    Assert.Equal(term, (await leader.ServeReadIndexAsync(term, 0)).Term);
                    break;
                }
                catch (Exception e) when (attempt < 5 && e is UnavailableException or NotLeaderException or Xunit.Sdk.ThrowsException && LeadershipMoved(leader, term))
                {
                }
            }
        }

        await using var off = await TestCluster.StartAsync(3, readLease: false);
        await off.PutAsync("k", "v");
        var offLeader = await off.WaitForLeaderAsync();
        foreach (var follower in off.Running.Where(n => n != offLeader))
        {
            Assert.Equal("v", await ReadAsync(follower, "k"));
            Assert.Equal(0, follower.FollowerReadIndexRounds);
            Assert.True(follower.QuorumReads > 0);
        }

        Assert.Equal(0, offLeader.ReadIndexServed);
    }
}
