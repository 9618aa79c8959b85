using System.Text;
using RaftKv.Replication.Api;

namespace RaftKv.Replication.Tests;

/// <summary>
/// etcd's order for a new voter — member add first, then start it (KvNode.PendingVoters.cs): a voter that does not
/// answer yet is listed as unstarted under a provisional id, in no quorum; once started (joining), the leader catches
/// it up and adds it, and it is listed under its own id. Removed before it starts, it is never added.
/// </summary>
[Collection("cluster")]
public sealed class PendingVoterTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    private static byte[] B(string s) => Encoding.UTF8.GetBytes(s);

    [Fact]
    public async Task AVoterAddedBeforeItStartsJoinsOnceStarted()
    {
        await using var c = await TestCluster.StartAsync(3, electionTimeout: TimeSpan.FromMilliseconds(600));
        await c.WaitForLeaderAsync();
        await c.PutAsync("before", "1");

        var raft = c.ReserveLearner(4); // an address only: node 4 starts as a joining voter below
        var pending = await c.OnLeaderAsync(l => l.AddVoterAsync(raft));
        Assert.True(pending.IsProvisional, $"listed under a provisional id: {pending}");
        Assert.False(pending.IsLearner);
        await Assert.ThrowsAsync<ArgumentException>(() => c.OnLeaderAsync(l => l.AddVoterAsync(raft))); // listed already
        await Eventually.TrueAsync(() => c.Running.All(n => n.GetStatus().Members.Any(m => m.RaftAddress == raft && m.IsProvisional && !m.IsLearner)), Deadline, "every member lists the unstarted voter");

        // In no quorum meanwhile: with one of the three original voters stopped, writes still commit (2 of 3).
        var follower = c.Running.First(n => !n.IsLeader).NodeId;
        await c.StopNodeAsync(follower);
        await c.PutAsync("pending", "1");
        await c.StartNodeAsync(follower);

        await c.StartNodeAsync(4, joinExisting: true);
        var joined = c.Nodes[4]!;
        await Eventually.TrueAsync(() => c.Running.All(n => n.GetStatus().Members.Any(m => m.Id == 4 && m.RaftAddress == raft && !m.IsLearner)), Deadline, "every member lists member 4 under its own id");
        await Eventually.TrueAsync(() => c.Running.All(n => n.MovedMembers.Count == 0 && n.GetStatus().Members.Count == 4), Deadline, "the pending record ended");
        await Eventually.TrueAsync(() => !joined.IsJoining && joined.GetStatus().Role is "follower" or "leader", Deadline, "member 4 left standby");
        await c.PutAsync("after", "2");
        await Eventually.TrueAsync(async () => await joined.GetAsync(B("after"), ReadConsistency.Serializable) is not null, Deadline, "member 4 has the data");
        Assert.NotNull(await joined.GetAsync(B("before"), ReadConsistency.Serializable));
        await c.AssertReplicasIdenticalAsync();
    }

    /// <summary>A one-voter cluster keeps accepting writes after a voter is added that never starts (etcd's quorum would
    /// become 2 of 2 and stop it); <c>member remove</c> of the provisional id drops the record, and the node started
    /// afterwards at that address is not added.</summary>
    [Fact]
    public async Task AnUnstartedVoterBlocksNoWriteAndIsNeverAddedOnceRemoved()
    {
        await using var c = await TestCluster.StartAsync(1, electionTimeout: TimeSpan.FromMilliseconds(600));
        var leader = await c.WaitForLeaderAsync();
        var raft = c.ReserveLearner(2);
        var pending = await leader.AddVoterAsync(raft);
        Assert.True(pending.IsProvisional);
        await c.PutAsync("still-writable", "1");

        await leader.RemoveMemberAsync(pending.Id);
        Assert.DoesNotContain(leader.GetStatus().Members, m => m.RaftAddress == raft);
        Assert.Empty(leader.MovedMembers);

        await c.StartNodeAsync(2, joinExisting: true);
        // Absence needs a window: the leader's membership loop runs every 500 ms; give it several rounds.
        var window = DateTime.UtcNow + TimeSpan.FromSeconds(3);
        while (DateTime.UtcNow < window)
        {
            Assert.DoesNotContain(leader.GetStatus().Members, m => m.RaftAddress == raft);
            await Task.Delay(Poll.Interval);
        }

        Assert.True(c.Nodes[2]!.IsJoining, "the removed member was never added");
    }

    [Fact]
    public async Task ARunningNodeIsAddedAtOnce()
    {
        await using var c = await TestCluster.StartAsync(3, electionTimeout: TimeSpan.FromMilliseconds(600));
        await c.WaitForLeaderAsync();
        var raft = c.ReserveLearner(4);
        await c.StartNodeAsync(4, joinExisting: true);
        var added = await c.OnLeaderAsync(l => l.AddVoterAsync(raft), TimeSpan.FromSeconds(90));
        Assert.False(added.IsProvisional, $"a node that answers is added as a voter now: {added}");
        Assert.Empty(c.Nodes[1]!.MovedMembers);
        await Eventually.TrueAsync(() => c.Running.All(n => n.GetStatus().Members.Any(m => m.Id == 4 && !m.IsLearner)), Deadline, "every member lists member 4");
    }
}
