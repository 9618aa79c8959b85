using System.Text;
using RaftKv.Replication.Api;
using RaftKv.Storage;
using Xunit.Abstractions;

namespace RaftKv.Replication.Tests;

/// <summary>
/// The corruption check (docs/architecture.md, "Corruption check") on three in-process replicas: one
/// replica's SSTable is changed on disk outside Raft, and the check names it; a healthy cluster under
/// writes, flushes, compactions and snapshots never raises an alarm.
/// </summary>
[Collection("cluster")]
public sealed class CorruptionCheckTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    private static byte[] B(string s) => Encoding.UTF8.GetBytes(s);

    private static string S(ReadOnlyMemory<byte> b) => Encoding.UTF8.GetString(b.Span);

    /// <summary>Forty keys with 1 KiB values (several 8 KiB data blocks, so <c>k017</c> is not in the
    /// first block, which also holds the state machine's reserved records read at start-up) are written
    /// and applied everywhere; then a follower is stopped (its memtable flushed into an SSTable) and
    /// returned with the path and offset of <c>k017</c>'s value in that table.</summary>
    private static async Task<(long Victim, string Table, long Offset)> WriteAndStopAFollowerAsync(TestCluster c)
    {
        var leader = await c.WaitForLeaderAsync();
        for (var i = 0; i < 40; i++)
        {
            await c.PutAsync($"k{i:D3}", $"value-{i:D3}-" + new string('x', 1000));
        }

        await c.AssertReplicasIdenticalAsync();
        var victim = c.Running.First(n => n != leader).NodeId;
        await c.StopNodeAsync(victim);
        var (table, offset) = SstEditor.Find(Path.Combine(c.DataDir(victim), "lsm"), B("value-017-"));
        return (victim, table, offset);
    }

    /// <summary>Runs <paramref name="call"/> on the leader, again on the next one if leadership moves meanwhile.</summary>
    private static async Task<T> OnLeaderAsync<T>(TestCluster c, Func<KvNode, Task<T>> call)
    {
        var deadline = DateTime.UtcNow + Deadline;
        while (true)
        {
            var leader = await c.WaitForLeaderAsync();
            try
            {
                return await call(leader);
            }
            catch (Exception e) when (e is NotLeaderException or UnavailableException && DateTime.UtcNow < deadline)
            {
            }
        }
    }

    private static bool HasCorruptAlarm(KvNode n, long member) => n.Alarms.Any(a => a.Alarm == AlarmType.Corrupt && a.MemberId == member);

    [Fact]
    public async Task ValueChangedOnOneReplicaBehindAValidChecksumRaisesCorruptNamingItUntilRebuiltAndDisarmed()
    {
        await using var c = await TestCluster.StartAsync(3);
        var (victim, table, offset) = await WriteAndStopAFollowerAsync(c);

        // "value-017-" becomes "value-917-" with the block's CRC rewritten: the replica reads it back
        // without any error, so only a comparison with the other replicas can tell.
        SstEditor.FlipKeepingChecksum(table, offset + 6, (byte)'9');
        await c.StartNodeAsync(victim);
        var v = await c.Nodes[victim]!.GetAsync(B("k017"), ReadConsistency.Serializable);
        Assert.StartsWith("value-917-", S(v!.Value.Value));

        // The restarted member's start-up check (it asks the leader) raises the alarm on every member.
        await Eventually.TrueAsync(() => c.Running.All(n => HasCorruptAlarm(n, victim)), Deadline, $"every member lists CORRUPT for member {victim}");
        Assert.All(c.Running, n => Assert.Single(n.Alarms));

        // An explicit check says the same, and names only the victim.
        var r = await OnLeaderAsync(c, n => n.CheckCorruptionAsync());
        Assert.Equal(CorruptionCheckResult.Mismatch, r.Outcome);
        Assert.Equal([victim], r.Corrupt);
        Assert.Equal(3, r.Hashes.Count);
        Assert.Single(r.Hashes.Where(h => h.MemberId != victim).Select(h => h.Hash).Distinct());
        Assert.NotEqual(r.Hashes.First(h => h.MemberId != victim).Hash, r.Hashes.Single(h => h.MemberId == victim).Hash);
        Assert.True(c.Running.Sum(n => n.CorruptionCheck.Checks.GetValueOrDefault(CorruptionCheckResult.Mismatch)) >= 1);

        // docs/operations.md: rebuild the member from its peers, check again, disarm.
        var leader = await c.WaitForLeaderAsync();
        await c.StopNodeAsync(victim);
        foreach (var n in c.Running)
        {
            await n.FlushAsync();
        }

        await OnLeaderAsync(c, async n =>
        {
            await n.RemoveMemberAsync(victim); // on the next leader if leadership moved meanwhile
            return true;
        });
        Directory.Move(c.DataDir(victim), c.DataDir(victim) + ".corrupt");
        await c.StartNodeAsync(victim, joinExisting: true); // INITIAL_CLUSTER_STATE=existing, as docs/operations.md says
        await c.AddMemberAsync(new MemberInfo(victim, c.RaftAddress(victim), string.Empty, string.Empty, false, false, true));
        await c.PutAsync("after-rebuild", "y");
        await Eventually.TrueAsync(async () => await c.Nodes[victim]!.GetAsync(B("after-rebuild"), ReadConsistency.Serializable) is not null, Deadline, "the rebuilt member has caught up");
        Assert.True(c.Nodes[victim]!.GetStatus().SnapshotsInstalled >= 1, "the rebuilt member caught up by a snapshot");
        await Eventually.TrueAsync(() => c.Running.All(n => n.GetStatus().Members.Count == 3), Deadline, "every node sees three members again");

        r = await OnLeaderAsync(c, n => n.CheckCorruptionAsync());
        Assert.Equal(CorruptionCheckResult.Ok, r.Outcome);
        Assert.Equal(3, r.Hashes.Count);
        Assert.Single(r.Hashes.Select(h => h.Hash).Distinct());

        // Alarms are replicated state: a restarted member still lists it.
        var other = c.Running.First(n => n.NodeId != victim && !n.IsLeader).NodeId;
        await c.StopNodeAsync(other);
        await c.StartNodeAsync(other);
        Assert.True(HasCorruptAlarm(c.Nodes[other]!, victim), "the alarm survives a restart");

        await OnLeaderAsync(c, async n =>
        {
            await n.DisarmAlarmAsync(AlarmType.Corrupt, victim);
            return true;
        });
        await Eventually.TrueAsync(() => c.Running.All(n => n.Alarms.Count == 0), Deadline, "the alarm is disarmed on every member");
    }

    [Fact]
    public async Task FlippedByteIsReportedAsCorruptionWithItsPathNotServed()
    {
        await using var c = await TestCluster.StartAsync(3);
        var (victim, table, offset) = await WriteAndStopAFollowerAsync(c);

        SstEditor.Flip(table, offset + 6, (byte)'9'); // the block's CRC no longer matches
        await c.StartNodeAsync(victim);
        var e = await Assert.ThrowsAsync<StorageCorruptionException>(async () => await c.Nodes[victim]!.GetAsync(B("k017"), ReadConsistency.Serializable));
        Assert.Equal(table, e.FilePath);

        var r = await OnLeaderAsync(c, n => n.CheckCorruptionAsync());
        Assert.Equal(CorruptionCheckResult.Mismatch, r.Outcome);
        Assert.Equal([victim], r.Corrupt);
        var report = r.Hashes.Single(h => h.MemberId == victim);
        Assert.Null(report.Hash);
        Assert.Contains(Path.GetFileName(table), report.Corruption, StringComparison.Ordinal);
        await Eventually.TrueAsync(() => c.Running.All(n => HasCorruptAlarm(n, victim)), Deadline, $"every member lists CORRUPT for member {victim}");
    }

    [Fact]
    public async Task HealthyClusterUnderWritesFlushesCompactionsAndSnapshotsNeverRaisesAnAlarm()
    {
        var seed = Environment.TickCount;
        output.WriteLine($"seed {seed}");
        await using var c = await TestCluster.StartAsync(3);
        await c.WaitForLeaderAsync();
        await Eventually.TrueAsync(() => c.Running.Any(n => n.CorruptionCheck.Checks.GetValueOrDefault(CorruptionCheckResult.Ok) >= 1), Deadline, "the start-up check ran and agreed");

        using var stop = new CancellationTokenSource();
        var writer = Task.Run(() => WriteLoadAsync(c, new Random(seed), stop.Token));
        var maintenance = Task.Run(() => MaintenanceLoadAsync(c, new Random(seed + 1), stop.Token));
        var checksWithKeys = 0;
        try
        {
            for (var round = 0; round < 30; round++)
            {
                var r = await OnLeaderAsync(c, n => n.CheckCorruptionAsync());
                output.WriteLine($"check {round}: index {r.Index} {r.Outcome}: {r.Detail}");
                Assert.Equal(CorruptionCheckResult.Ok, r.Outcome);
                Assert.Equal(3, r.Hashes.Count);
                checksWithKeys += r.Hashes[0].Keys > 0 ? 1 : 0; // the first checks may run before the writer's first write applied
            }
        }
        finally
        {
            await stop.CancelAsync();
            await Task.WhenAll(writer, maintenance);
        }

        Assert.All(c.Running, n => Assert.Empty(n.Alarms));
        Assert.True(c.Running.Sum(n => n.GetStatus().SnapshotsTaken) > 0, "snapshots were taken during the checks");
        Assert.True(checksWithKeys > 0, "no check hashed any key: the writer's data was never covered");
    }

    [Fact]
    public async Task ArchivedValuesHashLikeLocalOnesAndAnObjectStoreOutageIsUnansweredNotCorrupt()
    {
        var root = Path.Combine(Path.GetTempPath(), "raftkv-objects-" + Guid.NewGuid().ToString("N"));
        var stores = new Dictionary<long, RaftKv.Storage.Tests.DirectoryRemoteTableStore>();
        try
        {
            await using var c = await TestCluster.StartAsync(3, remoteStores: id => stores.TryGetValue(id, out var s) ? s : stores[id] = new(Path.Combine(root, $"n{id}")));
            var leader = await c.WaitForLeaderAsync();
            for (var i = 0; i < 40; i++)
            {
                await c.PutAsync($"k{i:D3}", $"value-{i:D3}-" + new string('x', 1000));
            }

            await c.AssertReplicasIdenticalAsync();

            // One follower archives every table and restarts (no block cached): its values are only in
            // the object store, the others' on local disk or in memory.
            var cold = c.Running.First(n => n != leader);
            await cold.FlushAsync();
            foreach (var t in cold.TieredStore.ListTables().Where(t => !t.IsRemote))
            {
                Assert.True(await cold.TieredStore.ArchiveTableAsync(t.Id, $"sst/{t.Id:D6}.sst"));
            }

            Assert.All(cold.TieredStore.ListTables(), t => Assert.True(t.IsRemote)); // (their keys files stay local)
            await c.StopNodeAsync(cold.NodeId);
            await c.StartNodeAsync(cold.NodeId);

            var r = await OnLeaderAsync(c, n => n.CheckCorruptionAsync());
            Assert.Equal(CorruptionCheckResult.Ok, r.Outcome);
            Assert.Equal(3, r.Hashes.Count);
            Assert.Single(r.Hashes.Select(h => h.Hash).Distinct());

            // Object store down (and the replica restarted, so the blocks the check read are not cached):
            // it cannot hash (unanswered, never corrupt), and its applier did not wait for it (a later
            // write is applied there).
            stores[cold.NodeId].Available = false;
            await c.StopNodeAsync(cold.NodeId);
            await c.StartNodeAsync(cold.NodeId);
            r = await OnLeaderAsync(c, n => n.CheckCorruptionAsync());
            Assert.Equal(CorruptionCheckResult.Incomplete, r.Outcome);
            Assert.Equal([cold.NodeId], r.Unanswered);
            Assert.Empty(r.Corrupt);
            await c.PutAsync("during-outage", "y");
            await Eventually.TrueAsync(async () => await c.Nodes[cold.NodeId]!.GetAsync(B("during-outage"), ReadConsistency.Serializable) is not null, Deadline, "the archived replica applies writes during the outage");

            stores[cold.NodeId].Available = true;
            r = await OnLeaderAsync(c, n => n.CheckCorruptionAsync());
            Assert.Equal(CorruptionCheckResult.Ok, r.Outcome);
            Assert.All(c.Running, n => Assert.Empty(n.Alarms));
        }
        finally
        {
            if (Directory.Exists(root))
            {
                Directory.Delete(root, recursive: true);
            }
        }
    }

    /// <summary>Puts (inline-sized and longer values, some with a TTL of a second or two, so keys expire
    /// between checks), deletes, prefix deletes and compare-and-swap transactions.</summary>
    private static async Task WriteLoadAsync(TestCluster c, Random rng, CancellationToken token)
    {
        while (!token.IsCancellationRequested)
        {
            var key = B($"w{rng.Next(300):D3}");
            var value = B(new string((char)('a' + rng.Next(26)), rng.Next(1, 200)));
            var op = rng.Next(10) switch
            {
                < 5 => KvTxn.Single(KvOp.Put(key, value)),
                5 or 6 => KvTxn.Single(KvOp.Put(key, value, rng.Next(1, 3) * 1000)),
                7 => KvTxn.Single(KvOp.Delete(key)),
                8 => KvTxn.Single(KvOp.DeletePrefix(B($"w{rng.Next(30):D2}"))),
                _ => new KvTxn([new KvCompare(key, CompareTarget.Value, CompareOp.Equal, 0, value, true)], [KvOp.Put(key, B("swapped"))], [KvOp.Get(key)], null),
            };
            await c.WriteAsync(op);
        }
    }

    /// <summary>Flushes (each takes a snapshot and lets the log be compacted) and compactions on random members.</summary>
    private static async Task MaintenanceLoadAsync(TestCluster c, Random rng, CancellationToken token)
    {
        var first = true;
        do
        {
            var nodes = c.Running.ToList();
            var n = nodes[rng.Next(nodes.Count)];
            if (first || rng.Next(2) == 0) // at least one flush (= a snapshot), however fast the checks ran
            {
                await n.FlushAsync(CancellationToken.None);
            }
            else
            {
                await n.CompactAsync(CancellationToken.None);
            }

            first = false;
            await Task.Delay(rng.Next(50, 200), CancellationToken.None); // pacing only, not a wait for a condition
        }
        while (!token.IsCancellationRequested);
    }
}
