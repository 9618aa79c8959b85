using System.Text;
using RaftKv.Replication.Api;

namespace RaftKv.Replication.Tests;

/// <summary>
/// Linearizable reads on the leader's read lease (KvNode.ReadLease.cs) on real in-process replicas over loopback:
/// the leader answers from its lease after a confirmed round, every answer includes every write acknowledged
/// before it, a member that lost leadership stops using its lease, and READ_LEASE=false never uses one.
/// </summary>
public sealed class ReadLeaseTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    private static byte[] B(string s) => Encoding.UTF8.GetBytes(s);

    private static async Task<string?> ReadAsync(KvNode node, string key)
        => await node.GetAsync(B(key), ReadConsistency.Linearizable) is { } e ? Encoding.UTF8.GetString(e.Value.Span) : null;

    [Fact]
    public async Task TheLeaderAnswersFromItsLeaseAndEveryReadSeesTheWritesAcknowledgedBeforeIt()
    {
        await using var c = await TestCluster.StartAsync(3);
        var leader = await c.WaitForLeaderAsync();
        var rounds = leader.QuorumReads;
        for (var i = 0; leader.LeaseReads == 0; i++)
        {
            Assert.True(i < 10_000, "the leader never answered a read from its lease");
            await c.PutAsync("k", "v" + i);
            Assert.Equal("v" + i, await ReadAsync(leader, "k")); // acknowledged write, then read: seen
        }

        // Most reads of a burst need no quorum round (renewals run in the background, two per lease at most).
        var before = (Lease: leader.LeaseReads, Rounds: leader.QuorumReads);
        for (var i = 0; i < 200; i++)
        {
            await c.PutAsync("k", "w" + i);
            Assert.Equal("w" + i, await ReadAsync(leader, "k"));
        }

        Assert.True(leader.LeaseReads > before.Lease, "no read of the burst used the lease");
        Assert.True(leader.QuorumReads - before.Rounds < 200, $"every read ran a quorum round ({leader.QuorumReads - before.Rounds}, started at {rounds})");
    }

    [Fact]
    public async Task AMemberThatLostLeadershipStopsUsingItsLease()
    {
        await using var c = await TestCluster.StartAsync(3);
        var old = await c.WaitForLeaderAsync();
        await c.PutAsync("k", "old");
        await Eventually.TrueAsync(async () => await ReadAsync(old, "k") == "old" && old.LeaseReads > 0, Deadline, "the first leader reads on its lease");

        var target = c.Running.First(n => n != old);
        await Eventually.TrueAsync(
            async () =>
            {
                try
                {
                    await old.MoveLeaderAsync(target.NodeId);
                    return true;
                }
                catch (UnavailableException)
                {
                    return false; // "did not catch up" within the transfer's bound on a loaded machine: retried, as an operator would
                }
            },
            Deadline,
            $"leadership moves to member {target.NodeId}");
        await Eventually.TrueAsync(() => target.IsLeader, Deadline, $"member {target.NodeId} leads");
        var result = await target.WriteAsync(KvTxn.Single(KvOp.Put(B("k"), B("new"))));
        Assert.True(result.Succeeded);

        // Right after the transfer the old leader's lease may still be unexpired by the clock; it must not be used.
        var leaseReads = old.LeaseReads;
        Assert.Equal("new", await ReadAsync(old, "k"));
        Assert.Equal(leaseReads, old.LeaseReads);
        Assert.Equal("new", await ReadAsync(target, "k"));
    }

    [Fact]
    public async Task WithTheLeaseOffEveryLinearizableReadRunsAQuorumRound()
    {
        await using var c = await TestCluster.StartAsync(3, readLease: false);
        var leader = await c.WaitForLeaderAsync();
        for (var i = 0; i < 20; i++)
        {
            await c.PutAsync("k", "v" + i);
            Assert.Equal("v" + i, await ReadAsync(leader, "k"));
        }

        Assert.Equal(0, leader.LeaseReads);
        Assert.True(leader.QuorumReads >= 20);
        Assert.All(c.Running, n => Assert.Equal(0, n.LeaseReads));
    }

    [Fact]
    public async Task FollowersNeverUseALease()
    {
        await using var c = await TestCluster.StartAsync(3);
        await c.PutAsync("k", "v");
        var leader = await c.WaitForLeaderAsync();
        foreach (var follower in c.Running.Where(n => n != leader))
        {
            Assert.Equal("v", await ReadAsync(follower, "k"));
            Assert.Equal(0, follower.LeaseReads);
        }
    }
}
