using System.Text;
using RaftKv.Replication.Api;

namespace RaftKv.Replication.Tests;

[Collection("cluster")]
public sealed class ClusterTests
{
    private static byte[] B(string s) => Encoding.UTF8.GetBytes(s);

    private static string S(ReadOnlyMemory<byte> b) => Encoding.UTF8.GetString(b.Span);

    [Fact]
    public async Task SingleNodeServesWritesAndReads()
    {
        await using var c = await TestCluster.StartAsync(1);
        var leader = await c.WaitForLeaderAsync();
        var r = await leader.WriteAsync(KvTxn.Single(KvOp.Put(B("k"), B("v"))));
        Assert.True(r.Succeeded);
        var got = await leader.GetAsync(B("k"), ReadConsistency.Linearizable);
        Assert.Equal("v", S(got!.Value.Value));
        Assert.Equal(r.Revision, got.Value.Version); // the native version is the mod revision
        Assert.Equal(2, r.Revision); // etcd: an empty store is at revision 1
    }

    [Fact]
    public async Task ThreeNodesReplicateAndFollowersServeLinearizableReads()
    {
        await using var c = await TestCluster.StartAsync(3);
        var leader = await c.WaitForLeaderAsync();
        for (var i = 0; i < 50; i++)
        {
            await c.PutAsync($"key{i}", $"value{i}");
        }

        foreach (var follower in c.Running.Where(n => n != leader))
        {
            Assert.Throws<NotLeaderException>(() => follower.WriteAsync(KvTxn.Single(KvOp.Put(B("x"), B("y")))).GetAwaiter().GetResult());
            var got = await follower.GetAsync(B("key49"), ReadConsistency.Linearizable);
            Assert.Equal("value49", S(got!.Value.Value));
            Assert.NotNull(follower.GetStatus().LeaderId); // (which one: a loaded machine (load 28) re-elected mid-test once)

            // The follower answered AppendEntries through the fsync-first commit path.
            Assert.True(follower.FollowerFlushWaits > 0, "follower never waited for its WAL fsync before replying");
        }

        await c.AssertReplicasIdenticalAsync();
    }

    [Fact]
    public async Task LeaderStoppedNewLeaderNoAcknowledgedWriteLost()
    {
        await using var c = await TestCluster.StartAsync(3);
        var leader = await c.WaitForLeaderAsync();
        var acked = new List<string>();
        for (var i = 0; i < 20; i++)
        {
            await c.PutAsync($"a{i}", "1");
            acked.Add($"a{i}");
        }

        await c.StopNodeAsync(leader.NodeId);
        var next = await c.WaitForLeaderAsync();
        Assert.NotEqual(leader.NodeId, next.NodeId);
        for (var i = 20; i < 30; i++)
        {
            await c.PutAsync($"a{i}", "1");
            acked.Add($"a{i}");
        }

        foreach (var k in acked)
        {
            Assert.NotNull(await next.GetAsync(B(k), ReadConsistency.Linearizable));
        }

        await c.StartNodeAsync(leader.NodeId);
        await c.AssertReplicasIdenticalAsync();
    }

    [Fact]
    public async Task AFollowersLinearizableReadDuringAnElectionWaitsForTheNextLeader()
    {
        await using var c = await TestCluster.StartAsync(3);
        var leader = await c.WaitForLeaderAsync();
        await c.PutAsync("k", "1");
        var follower = c.Running.First(n => n != leader);
        await c.StopNodeAsync(leader.NodeId);

        // The follower still names the dead leader (or none): the read waits for the election
        // (300–600 ms here, under the 3 s operation deadline) instead of failing at once.
        var read = await follower.GetAsync(B("k"), ReadConsistency.Linearizable);
        Assert.Equal("1", S(read!.Value.Value));
    }

    [Fact]
    public async Task MinorityRefusesWritesAndLinearizableReads()
    {
        await using var c = await TestCluster.StartAsync(3);
        var leader = await c.WaitForLeaderAsync();
        await c.PutAsync("before", "1");
        var survivor = c.Running.First(n => n != leader);
        await Eventually.TrueAsync(async () => await survivor.GetAsync(B("before"), ReadConsistency.Serializable) is not null, TimeSpan.FromSeconds(30), "the follower applied the write");
        foreach (var n in c.Running.Where(n => n != survivor).ToList())
        {
            await c.StopNodeAsync(n.NodeId);
        }

        await Assert.ThrowsAnyAsync<Exception>(() => survivor.WriteAsync(KvTxn.Single(KvOp.Put(B("during"), B("x")))));
        await Assert.ThrowsAsync<UnavailableException>(async () => await survivor.GetAsync(B("before"), ReadConsistency.Linearizable));
        Assert.NotNull(await survivor.GetAsync(B("before"), ReadConsistency.Serializable)); // stale reads are allowed to answer
    }

    /// <summary>Also with values of 6,000 bytes, which the members keep in value files once every member lists the
    /// value-files feature: the snapshot carries the value files, the follower's renumbered tables point into them. And
    /// with the snapshot pulled by the follower from the leader's tail stream (KvNode.SnapshotPull.cs), as every snapshot
    /// above SNAPSHOT_PULL_ABOVE_BYTES (default 0) is; the other variants send it in one Raft request, as a member of an
    /// older release gets it. Values of 300 bytes: their history records (not the current values) go to value files
    /// (HISTORY_VALUE_FILE_MIN_BYTES, 128 by default), read back by a read at an old revision on the follower.</summary>
    [Theory]
    [InlineData(300, true)]
    [InlineData(100, false)]
    [InlineData(6000, false)]
    [InlineData(100, true)]
    [InlineData(6000, true)]
    public async Task LaggingFollowerCatchesUpBySnapshotAfterLogCompaction(int valueBytes, bool pulled)
    {
        await using var c = await TestCluster.StartAsync(3, snapshotPullAboveBytes: pulled ? 0 : -1);
        var leader = await c.WaitForLeaderAsync();
        var lagging = c.Running.First(n => n != leader).NodeId;
        if (pulled)
        {
            await Eventually.TrueAsync(() => Task.FromResult(leader.SendsSnapshotReferences), TimeSpan.FromSeconds(30), "the leader knows every member can pull");
        }

        if (valueBytes >= KvNodeOptions.DefaultHistoryValueFileMinBytes)
        {
            await Eventually.TrueAsync(() => Task.FromResult(c.Running.All(n => ((Storage.IKvStore)n.TieredStore).SeparateValues)), TimeSpan.FromSeconds(30), "every member separates large values");
        }

        await c.StopNodeAsync(lagging);
        for (var i = 0; i < 300; i++)
        {
            await c.PutAsync($"s{i:D3}", new string((char)('a' + (i % 26)), valueBytes));
        }

        var firstVersion = (await leader.RangeAsync(new RangeRequest(B("s000")), ReadConsistency.Linearizable)).Kvs.Single().ModRevision;
        await c.PutAsync("s000", "overwritten"); // s000's first value is history only now

        foreach (var n in c.Running)
        {
            await n.FlushAsync(); // checkpoint = snapshot; the WAL may drop the log up to it
        }

        await c.StartNodeAsync(lagging);
        var follower = c.Nodes[lagging]!;
        await Eventually.TrueAsync(async () => await follower.GetAsync(B("s299"), ReadConsistency.Serializable) is not null, TimeSpan.FromSeconds(60), "the restarted follower has the data");
        if (!pulled)
        {
            // One request's known flaw (docs/architecture.md, "Snapshots too large for one Raft request"): an installation
            // that outlasted the request leaves the follower at the snapshot's index, and DotNext rejects the same snapshot
            // until the leader takes a newer one. Newer ones here, as the leader's snapshot loop would take within a minute,
            // until the follower has caught up: on a loaded machine the next installation can outlast its request too
            // (the suite, 2026-12-07: one newer snapshot was not enough within 30 s).
            // Done only when the follower reaches the leader's applied index of the moment without a new snapshot: one
            // taken to unstick it may drop the log past where it then stands, and it would need that snapshot again.
            // And then follows a new write by plain replication (the suite, 2026-12-07: a follower that had reached the
            // leader's index by a snapshot then stayed behind the next entries for 30 s): only then is it back in the
            // log's stream, which the replica comparison below relies on.
            await Eventually.TrueAsync(
                async () =>
                {
                    var leaderNow = await c.WaitForLeaderAsync();
                    var target = leaderNow.GetStatus().AppliedIndex;
                    if (await Eventually.WithinAsync(() => follower.GetStatus().AppliedIndex >= target, TimeSpan.FromSeconds(5)))
                    {
                        await c.PutAsync("sync", "probe");
                        var written = c.Running.Max(n => n.GetStatus().AppliedIndex);
                        if (await Eventually.WithinAsync(() => follower.GetStatus().AppliedIndex >= written, TimeSpan.FromSeconds(5)))
                        {
                            return true;
                        }
                    }

                    await leaderNow.FlushAsync();
                    return false;
                },
                TimeSpan.FromSeconds(120),
                "the follower caught up with the leader (the leader taking a newer snapshot every 5 s until it has)");
        }

        await c.AssertReplicasIdenticalAsync();
        Assert.True(follower.GetStatus().SnapshotsInstalled >= 1, "the follower caught up by installing a snapshot");
        Assert.Equal(pulled, follower.PulledSnapshotsInstalled > 0);
        var blobFiles = Directory.GetFiles(Path.Combine(c.DataDir(lagging), "lsm"), "*.blob").Length;
        Assert.True(valueBytes <= 100 ? blobFiles == 0 : blobFiles > 0, $"{blobFiles} value files on the follower");
        var old = (await follower.RangeAsync(new RangeRequest(B("s000"), Revision: firstVersion), ReadConsistency.Serializable)).Kvs.Single();
        Assert.Equal(new string('a', valueBytes), S(old.Value));
        Assert.Equal(new string((char)('a' + (299 % 26)), valueBytes), S((await follower.GetAsync(B("s299"), ReadConsistency.Serializable))!.Value.Value));
    }

    [Fact]
    public async Task LaggingFollowerCatchesUpByTheEntriesKeptBelowTheSnapshot()
    {
        // As production runs (KvNodeOptions.LogRetainEntries, 5000 by default): the leader keeps entries below its snapshots for a follower that missed
        // some, which would otherwise be sent the whole store as a snapshot, in one request that must end within the Raft
        // request timeout (a large store never fits: the follower retried forever, found with 64 KiB puts).
        await using var c = await TestCluster.StartAsync(3, logRetainEntries: 5000);
        var leader = await c.WaitForLeaderAsync();
        var lagging = c.Running.First(n => n != leader).NodeId;
        await c.StopNodeAsync(lagging);
        for (var i = 0; i < 300; i++)
        {
            await c.PutAsync($"s{i:D3}", new string('v', 100));
        }

        foreach (var n in c.Running)
        {
            await n.FlushAsync(); // a snapshot past everything the stopped follower holds
        }

        await c.StartNodeAsync(lagging);
        var follower = c.Nodes[lagging]!;
        await Eventually.TrueAsync(async () => await follower.GetAsync(B("s299"), ReadConsistency.Serializable) is not null, TimeSpan.FromSeconds(60), "the restarted follower has the data");
        await c.AssertReplicasIdenticalAsync();
        Assert.Equal(0, follower.GetStatus().SnapshotsInstalled);
    }

    [Theory]
    [InlineData(RaftLogEngine.RaftKv)]
    [InlineData(RaftLogEngine.DotNext)]
    public async Task AllNodesRestartedStateIntact(RaftLogEngine engine)
    {
        await using var c = await TestCluster.StartAsync(3, engine);
        await c.WaitForLeaderAsync();
        for (var i = 0; i < 100; i++)
        {
            await c.PutAsync($"r{i:D3}", $"v{i}");
        }

        await c.Running.First().FlushAsync(); // one node from a snapshot, the others from the log
        await c.AssertReplicasIdenticalAsync();
        var before = await TestCluster.StateHashAsync(c.Running.First());
        foreach (var id in c.Nodes.Keys.ToList())
        {
            await c.StopNodeAsync(id);
        }

        foreach (var id in c.Nodes.Keys.ToList())
        {
            await c.StartNodeAsync(id);
        }

        var leader = await c.WaitForLeaderAsync();
        Assert.Equal("v99", S((await leader.GetAsync(B("r099"), ReadConsistency.Linearizable))!.Value.Value));
        await c.AssertReplicasIdenticalAsync();
        Assert.Equal(before, await TestCluster.StateHashAsync(leader));
    }

    /// <summary>A stop whose token is already spent (the host's shutdown timeout used up by slow listeners) still closes
    /// the log, the store and the directory lock: before, DotNext's stop threw, the node stayed open and the process
    /// crashed (exit 134) with the data directory locked. The next start recovers every acknowledged write from the log.</summary>
    [Fact]
    public async Task AStopWithASpentTokenStillClosesTheNodeAndItReopensWithItsData()
    {
        await using var c = await TestCluster.StartAsync(1);
        await c.WaitForLeaderAsync();
        for (var i = 0; i < 20; i++)
        {
            await c.PutAsync($"spent{i:D2}", $"v{i}");
        }

        await c.StopNodeAsync(1, new CancellationToken(canceled: true));
        await c.StartNodeAsync(1);
        var again = await c.WaitForLeaderAsync();
        for (var i = 0; i < 20; i++)
        {
            Assert.Equal($"v{i}", S((await again.GetAsync(B($"spent{i:D2}"), ReadConsistency.Linearizable))!.Value.Value));
        }
    }

    [Fact]
    public async Task RetryWithSameRequestIdIsAppliedOnce()
    {
        await using var c = await TestCluster.StartAsync(1);
        var leader = await c.WaitForLeaderAsync();
        var first = await leader.WriteAsync(KvTxn.Single(KvOp.Put(B("once"), B("1")), "req-1"));
        await leader.WriteAsync(KvTxn.Single(KvOp.Put(B("once"), B("2"))));
        var retry = await leader.WriteAsync(KvTxn.Single(KvOp.Put(B("once"), B("1")), "req-1"));
        Assert.Equal(first.Index, retry.Index);
        Assert.Equal("2", S((await leader.GetAsync(B("once"), ReadConsistency.Linearizable))!.Value.Value));
    }

    [Fact]
    public async Task TransactionsCompareAndSwap()
    {
        await using var c = await TestCluster.StartAsync(1);
        var leader = await c.WaitForLeaderAsync();
        var put = await leader.WriteAsync(KvTxn.Single(KvOp.Put(B("cas"), B("a"))));
        var ok = await leader.WriteAsync(new KvTxn([new KvCompare(B("cas"), CompareTarget.Mod, CompareOp.Equal, put.Revision)], [KvOp.Put(B("cas"), B("b"))], [KvOp.Get(B("cas"))]));
        Assert.True(ok.Succeeded);
        var stale = await leader.WriteAsync(new KvTxn([new KvCompare(B("cas"), CompareTarget.Mod, CompareOp.Equal, put.Revision)], [KvOp.Put(B("cas"), B("c"))], [KvOp.Get(B("cas"))]));
        Assert.False(stale.Succeeded);
        Assert.Equal("b", S(stale.Results[0].Entry!.Value.Value));
        var del = await leader.WriteAsync(KvTxn.Single(KvOp.DeletePrefix(B("ca"))));
        Assert.Equal(1, del.Results[0].Deleted);
        await Assert.ThrowsAsync<ArgumentException>(() => leader.WriteAsync(KvTxn.Single(KvOp.Put([], B("x")))));
        await Assert.ThrowsAsync<ValueTooLargeException>(() => leader.WriteAsync(KvTxn.Single(KvOp.Put(new byte[5000], B("x")))));
    }

    [Fact]
    public async Task TtlExpiresOnTheLogicalClockOnEveryReplica()
    {
        await using var c = await TestCluster.StartAsync(3);
        var leader = await c.WaitForLeaderAsync();
        var w = await c.WriteAsync(KvTxn.Single(KvOp.Put(B("ttl"), B("x"), ttlMs: 500)));
        Assert.NotNull(await leader.GetAsync(B("ttl"), ReadConsistency.Linearizable));
        // Idle-leader ticks advance the replicated clock past the expiry.
        await Eventually.TrueAsync(async () => await leader.GetAsync(B("ttl"), ReadConsistency.Linearizable) is null, TimeSpan.FromSeconds(30), "the key expires on the leader");
        foreach (var n in c.Running)
        {
            await Eventually.TrueAsync(async () => await n.GetAsync(B("ttl"), ReadConsistency.Linearizable) is null, TimeSpan.FromSeconds(30), $"the key expires on node {n.NodeId}");
        }

        Assert.True(w.Index > 0);
    }

    [Fact]
    public async Task MembershipChangesSurviveRestartsAndRemovedNodeRejoinsEmpty()
    {
        await using var c = await TestCluster.StartAsync(3);
        var leader = await c.WaitForLeaderAsync();
        await c.PutAsync("m1", "before");
        var removed = c.Running.First(n => n != leader).NodeId;

        var remover = await c.OnLeaderAsync(async l =>
        {
            await l.RemoveMemberAsync(removed); // on the next leader if leadership moved meanwhile (a loaded machine)
            return l;
        });
        Assert.DoesNotContain(remover.GetStatus().Members, m => m.Id == removed); // listed as removed once the call returns
        await c.Nodes[removed]!.Removed.WaitAsync(TimeSpan.FromSeconds(60)); // the removed member learns it (the server then stops, as etcd's)
        Assert.All(c.Running.Where(n => n.NodeId != removed), n => Assert.False(n.Removed.IsCompleted));
        await c.StopNodeAsync(removed);
        Assert.Equal(2, leader.GetStatus().Members.Count);
        await c.PutAsync("m2", "two-members");

        // Full restart with PEERS still naming three nodes: the persisted membership (two) wins.
        var survivors = c.Running.Select(n => n.NodeId).ToList();
        foreach (var id in survivors)
        {
            await c.StopNodeAsync(id);
        }

        foreach (var id in survivors)
        {
            await c.StartNodeAsync(id);
        }

        leader = await c.WaitForLeaderAsync();
        await Eventually.TrueAsync(() => leader.GetStatus().Members.Count == 2, TimeSpan.FromSeconds(10), "membership after restart is the persisted one");
        Assert.DoesNotContain(leader.GetStatus().Members, m => m.Id == removed);
        await c.PutAsync("m3", "after-restart");

        // The removed node comes back with an empty disk and is added again: it catches up.
        c.WipeNode(removed);
        await c.StartNodeAsync(removed);
        await c.AddMemberAsync(new MemberInfo(removed, c.RaftAddress(removed), string.Empty, string.Empty, false, false, true));
        var rejoined = c.Nodes[removed]!;
        await Eventually.TrueAsync(async () => await rejoined.GetAsync(B("m3"), ReadConsistency.Serializable) is not null, TimeSpan.FromSeconds(60), "the re-added node has the data");
        await Eventually.TrueAsync(() => c.Running.All(n => n.GetStatus().Members.Count == 3), TimeSpan.FromSeconds(30), "every node sees three members again");
        await c.AssertReplicasIdenticalAsync();
        Assert.All(c.Running, n => Assert.False(n.Removed.IsCompleted, $"node {n.NodeId} does not take itself for removed"));
    }
}
