using System.Text;
using RaftKv.Replication.Api;

namespace RaftKv.Replication.Tests;

/// <summary>
/// Application-level learners in process (docs/architecture.md, "Learners"): the tail stream's snapshot path
/// (the learner starts after the leader compacted its log), then entries; a learner in no quorum; promote
/// refused while it is not streaming and accepted once caught up, after which it votes.
/// </summary>
public sealed class LearnerTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    [Theory]
    [InlineData(RaftLogEngine.RaftKv)]
    [InlineData(RaftLogEngine.DotNext)]
    public async Task LearnerCatchesUpFromSnapshotThenLogAndIsPromoted(RaftLogEngine engine)
    {
        await using var c = await TestCluster.StartAsync(3, engine, electionTimeout: TimeSpan.FromMilliseconds(600));
        await c.WaitForLeaderAsync();
        for (var i = 0; i < 300; i++)
        {
            await c.PutAsync($"s{i:D3}", new string('v', 100));
        }

        // Every voter applies the writes first, so each one's snapshot covers them: whichever voter leads when the learner
        // attaches (leadership may move on a loaded machine) has dropped its log below the learner's first index.
        var written = c.Running.Max(n => n.GetStatus().AppliedIndex);
        await Eventually.TrueAsync(() => c.Running.All(n => n.GetStatus().AppliedIndex >= written), Deadline, $"every voter applied index {written}");
        foreach (var n in c.Running)
        {
            await n.FlushAsync(); // a snapshot, and the log below it dropped (FlushAsync compacts before it returns): the learner needs the snapshot
        }

        var raft = c.ReserveLearner(4);
        var added = await c.OnLeaderAsync(l => l.AddLearnerAsync(raft));
        Assert.True(added.IsLearner);
        await Assert.ThrowsAsync<ArgumentException>(() => c.OnLeaderAsync(l => l.AddLearnerAsync(raft))); // listed already
        await c.PutAsync("compacted", "1"); // applied in a later round of the applier than the snapshot: the log prefix is gone

        await c.StartLearnerAsync(4);
        var learner = c.Nodes[4]!;
        Assert.True(learner.IsLearner);
        await Eventually.TrueAsync(async () => await learner.GetAsync(B("s299"), ReadConsistency.Serializable) is not null, Deadline, "the learner has the data written before it started");

        // The snapshot's data is readable once ingested, a moment before its installation ends (and is counted): wait
        // until the learner has applied past the snapshot (its applied index moves only after an installation ends).
        await Eventually.TrueAsync(() => learner.GetStatus().AppliedIndex >= written, Deadline, $"the learner applied index {written}");
        if (engine == RaftLogEngine.RaftKv)
        {
            // RaftKv's log drops its prefix as soon as the snapshot is applied; DotNext's WAL may keep it (then the
            // learner reads entries through the WAL instead, which this theory also covers).
            Assert.True(learner.GetStatus().SnapshotsInstalled >= 1, "the learner caught up by installing the leader's snapshot");
        }
        await Eventually.TrueAsync(() => c.Running.Where(n => n.NodeId != 4).All(n => n.GetStatus().Members.Any(m => m.Id == 4 && m.IsLearner)), Deadline, "every voter lists member 4 as a learner");
        Assert.Equal("learner", learner.GetStatus().Role);

        // Entries after the snapshot arrive on the stream; a learner refuses writes and read-index reads.
        await c.PutAsync("after", "1");
        await Eventually.TrueAsync(async () => await learner.GetAsync(B("after"), ReadConsistency.Serializable) is not null, Deadline, "the learner applies new entries");
        await Assert.ThrowsAsync<LearnerNotSupportedException>(() => learner.WriteAsync(KvTxn.Single(KvOp.Put(B("x"), B("y")))));
        await Assert.ThrowsAsync<LearnerNotSupportedException>(async () => await learner.GetAsync(B("after"), ReadConsistency.Linearizable));

        // The learner's log holds the leader's entries at the same indexes and terms: promote, then it votes.
        await Assert.ThrowsAsync<NotLearnerException>(() => c.OnLeaderAsync(async l =>
        {
            await l.PromoteLearnerAsync(l.NodeId == 1 ? 2 : 1);
            return 0;
        }));
        await c.OnLeaderAsync(async l =>
        {
            await l.PromoteLearnerAsync(4);
            return 0;
        });
        await Eventually.TrueAsync(() => !learner.IsLearner, Deadline, "the learner applied its promotion");
        await Eventually.TrueAsync(() => learner.GetStatus().Role != "standby", Deadline, "the promoted member left standby: it can campaign");
        await Eventually.TrueAsync(() => c.Running.All(n => n.GetStatus().Members.Count(m => !m.IsLearner) == 4 && n.GetStatus().Members.All(m => !m.IsLearner)), Deadline, "four voters, no learner, on every member");

        // Four voters: quorum 3. Stop an original voter that is not the leader: writes go on.
        var leader = await c.WaitForLeaderAsync();
        await c.StopNodeAsync(c.Running.First(n => n != leader && n.NodeId != 4).NodeId);
        await c.PutAsync("promoted", "yes");
        await Eventually.TrueAsync(async () => await learner.GetAsync(B("promoted"), ReadConsistency.Serializable) is not null, Deadline, "the promoted member applies through Raft");
        await c.AssertReplicasIdenticalAsync();
    }

    [Fact]
    public async Task PromoteIsRefusedWhileTheLearnerIsNotStreamingAndRemoveDropsIt()
    {
        await using var c = await TestCluster.StartAsync(3, electionTimeout: TimeSpan.FromMilliseconds(600));
        await c.WaitForLeaderAsync();
        await c.PutAsync("k", "v");
        var raft = c.ReserveLearner(4);
        await c.OnLeaderAsync(l => l.AddLearnerAsync(raft));
        await c.StartLearnerAsync(4);
        var learner = c.Nodes[4]!;
        await Eventually.TrueAsync(async () => await learner.GetAsync(B("k"), ReadConsistency.Serializable) is not null, Deadline, "the learner caught up");
        await Eventually.TrueAsync(() => c.Running.All(n => n.GetStatus().Members.Any(m => m.Id == 4 && m.IsLearner)), Deadline, "member 4 is listed with its id");

        // etcd 3.4's limit (MAX_LEARNERS, default 1): a second learner is refused while one is listed.
        var tooMany = await Assert.ThrowsAsync<TooManyLearnersException>(() => c.OnLeaderAsync(l => l.AddLearnerAsync(c.ReserveLearner(6))));
        Assert.Equal(1, tooMany.Limit);
        Assert.All(c.Running, n => Assert.Single(n.Learners));

        await c.StopNodeAsync(4); // no stream: promote is refused, and the voters go on without it
        await Eventually.TrueAsync(
            async () =>
            {
                try
                {
                    await c.OnLeaderAsync(async l =>
                    {
                        await l.PromoteLearnerAsync(4);
                        return 0;
                    });
                    return false;
                }
                catch (LearnerNotReadyException)
                {
                    return true;
                }
            },
            Deadline,
            "promote is refused while the learner is stopped");
        await c.PutAsync("while-stopped", "1");

        await c.OnLeaderAsync(async l =>
        {
            await l.RemoveMemberAsync(4);
            return 0;
        });
        await Eventually.TrueAsync(() => c.Running.All(n => n.GetStatus().Members.All(m => m.Id != 4 && !m.IsLearner)), Deadline, "the removed learner is listed no more");
        Assert.Empty(c.Running.First().Learners);

        // A learner never started has a provisional id (far above NODE_IDs), by which it can be removed.
        var never = await c.OnLeaderAsync(l => l.AddLearnerAsync(c.ReserveLearner(5)));
        Assert.True(never.Id >= 1L << 62, $"provisional id {never.Id}");
        await c.OnLeaderAsync(async l =>
        {
            await l.RemoveMemberAsync(never.Id);
            return 0;
        });
        await Eventually.TrueAsync(() => c.Running.All(n => n.Learners.Count == 0), Deadline, "the never-started learner is removed");
    }

    private static byte[] B(string s) => Encoding.UTF8.GetBytes(s);
}
