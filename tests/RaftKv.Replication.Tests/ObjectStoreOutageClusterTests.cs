using System.Text;
using RaftKv.Replication.Api;
using RaftKv.Storage;
using RaftKv.Tiering;
using RaftKv.Tiering.Tests;

namespace RaftKv.Replication.Tests;

/// <summary>
/// Three replicas archiving to a real S3 server (Ceph RGW) whose gateway is stopped mid-run: every
/// write whose outcome needs only metadata (puts, deletes and prefix deletes of archived keys,
/// existence and version compares, request-id retries) commits and applies on every replica at
/// once; value compares and prev_kv on archived values are refused before anything is proposed;
/// local reads keep working. Once the gateway is back, everything is consistent and identical.
/// </summary>
[Collection("rgw")]
public sealed class ObjectStoreOutageClusterTests(RgwFixture rgw, Xunit.Abstractions.ITestOutputHelper output) : IDisposable
{
    private readonly List<S3ObjectStore> _s3 = [];

    private static byte[] B(string s) => Encoding.UTF8.GetBytes(s);

    private static string S(ReadOnlyMemory<byte> b) => Encoding.UTF8.GetString(b.Span);

    /// <summary>A value far longer than a keys file keeps inline, so only the object has it; two or
    /// three fill an 8 KiB data block, so the keys used below sit in blocks that no start-up read
    /// (which reads reserved keys, sorted first) brings into the cache.</summary>
    private static string Cold(int i) => $"cold value {i:D2} ".PadRight(3000, '.');

    [Fact]
    public async Task WritesNeedingOnlyMetadataApplyEverywhereWhileTheObjectStoreIsDown()
    {
        var bucket = "outage-" + Guid.NewGuid().ToString("N")[..10];
        var options = rgw.Options(bucket) with { MaxRetries = 1, RequestTimeout = TimeSpan.FromSeconds(5) };
        using (var setup = new S3ObjectStore(options))
        {
            await setup.EnsureBucketAsync();
        }

        IRemoteTableStore Remote(long id)
        {
            var s3 = new S3ObjectStore(options with { NodePrefix = $"nodes/{id}/" });
            _s3.Add(s3);
            return new ObjectStoreTableStore(s3);
        }

        // Each write below is proposed exactly once and its outcome asserted, so a leader change in
        // the middle (seen on a loaded CI machine with the 300 ms default) must not happen: a
        // longer election timeout keeps the leader elected at the start. The start-up corruption check
        // is off: after each restart below it would read every archived value back from S3 and cache
        // it, racing the outage (CI saw a value compare on cold/05 succeed with the gateway down).
        await using var c = await TestCluster.StartAsync(3, remoteStores: Remote, electionTimeout: TimeSpan.FromSeconds(2), initialCorruptCheck: false);
        await c.WaitForLeaderAsync();
        var versions = new Dictionary<int, long>();
        for (var i = 0; i < 40; i++)
        {
            versions[i] = (await c.WriteAsync(KvTxn.Single(KvOp.Put(B($"cold/{i:D2}"), B(Cold(i)))))).Revision;
        }

        var original = await c.WriteAsync(KvTxn.Single(KvOp.Put(B("cold/rid"), B(Cold(99))), "request-1"));
        await c.AssertReplicasIdenticalAsync();

        // Every node archives everything it has, then restarts: nothing archived is cached.
        async Task ArchiveAndRestartAsync(long id)
        {
            var node = c.Nodes[id]!;
            await node.FlushAsync();
            foreach (var t in node.TieredStore.ListTables().Where(t => !t.IsRemote))
            {
                Assert.True(await node.TieredStore.ArchiveTableAsync(t.Id, $"nodes/{id}/sst/{t.Id:D6}.sst"));
            }

            Assert.Equal(node.GetStoreStats().ArchivedMetadataBytes, node.TieredStore.LocalDiskBytes); // only metadata stays local
            await c.StopNodeAsync(id);
            await c.StartNodeAsync(id);
        }

        foreach (var id in c.Nodes.Keys.ToList())
        {
            await ArchiveAndRestartAsync(id);
        }

        // The cold values can come back into local tables after a restart: a compaction (the tables the restart and
        // the clock ticks flush reach L0's trigger) may merge archived tables into a local one (CI saw cold/30 read
        // with the gateway down), and a member that restarted behind a log compacted by another member's flush
        // installs a snapshot, whose tables are local (a full suite saw node 1 with only local tables, no compaction
        // and no flush since its restart). Archive and restart such a node again, so the outage below finds the cold
        // values only in S3.
        bool HoldsColdValuesLocally(KvNode n) => n.TieredStore.ListTables().Any(t => !t.IsRemote && t.MinIndex <= original.Index);
        for (var round = 0; c.Running.FirstOrDefault(HoldsColdValuesLocally) is { } moved; round++)
        {
            Assert.True(round < 5, $"node {moved.NodeId} kept bringing archived values back into local tables");
            output.WriteLine($"node {moved.NodeId} holds cold values in local tables after its restart: archiving and restarting it again");
            await ArchiveAndRestartAsync(moved.NodeId);
        }

        async Task<TxnResult> Write(KvTxn txn)
        {
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            while (true)
            {
                var leader = await c.WaitForLeaderAsync();
                try
                {
                    return await leader.WriteAsync(txn);
                }
                catch (NotLeaderException) when (DateTime.UtcNow < deadline)
                {
                    await Task.Delay(Poll.Interval);
                }
            }
        }

        await c.WaitForLeaderAsync();
        rgw.StopGateway();
        try
        {
            var leader = await c.WaitForLeaderAsync();
            try
            {
                await leader.GetAsync(B("cold/30"), ReadConsistency.Serializable);
                Assert.Fail($"node {leader.NodeId} read cold/30 with the gateway down: stats {System.Text.Json.JsonSerializer.Serialize(leader.GetStoreStats())}, "
                    + $"tables {string.Join("; ", leader.TieredStore.ListTables())}");
            }
            catch (RemoteTierUnavailableException)
            {
                // the outage is real: the value lives only in S3
            }

            // Each write below is proposed once (Write retries only NotLeaderException, i.e. nothing
            // proposed): it must commit and apply within the node's own operation timeout (an apply
            // that waited on S3 would make it time out instead).
            Assert.True((await Write(KvTxn.Single(KvOp.Put(B("fresh/1"), B("one"))))).Succeeded);
            Assert.Equal(1, (await Write(KvTxn.Single(KvOp.Delete(B("cold/01"))))).Results[0].Deleted);
            Assert.Equal(0, (await Write(KvTxn.Single(KvOp.Delete(B("cold/never"))))).Results[0].Deleted);
            Assert.Equal(10, (await Write(KvTxn.Single(KvOp.DeletePrefix(B("cold/1"))))).Results[0].Deleted);
            var cas = await Write(new KvTxn(
                [new KvCompare(B("cold/02"), CompareTarget.Exists, CompareOp.Equal, Exists: true), new KvCompare(B("cold/03"), CompareTarget.Mod, CompareOp.Equal, versions[3]), new KvCompare(B("cold/03"), CompareTarget.Version, CompareOp.Equal, 1)],
                [KvOp.Put(B("cold/02"), B("swapped"))],
                []));
            Assert.True(cas.Succeeded);
            var stale = await Write(new KvTxn(
                [new KvCompare(B("cold/04"), CompareTarget.Mod, CompareOp.Equal, versions[4] + 1)],
                [KvOp.Put(B("cold/04"), B("wrong"))],
                [KvOp.Put(B("cas/failed"), B("yes"))]));
            Assert.False(stale.Succeeded);
            var retry = await Write(KvTxn.Single(KvOp.Put(B("cold/rid"), B("again")), "request-1"));
            Assert.Equal(original.Index, retry.Index); // answered from the archived request-id record
            Assert.True(retry.Succeeded);

            // Values only S3 has: refused up front with a clear error, nothing proposed.
            var byValue = new KvTxn([new KvCompare(B("cold/05"), CompareTarget.Value, CompareOp.Equal, Value: B(Cold(5)))], [KvOp.Put(B("cold/05"), B("x"))], []);
            var refused = await Assert.ThrowsAsync<RemoteTierUnavailableException>(() => Write(byValue));
            Assert.Contains("nothing was proposed", refused.Message, StringComparison.Ordinal);
            await Assert.ThrowsAsync<RemoteTierUnavailableException>(() => Write(KvTxn.Single(KvOp.Put(B("cold/06"), B("x"), prevKv: true))));
            await Assert.ThrowsAsync<RemoteTierUnavailableException>(() => Write(new KvTxn([], [KvOp.Get(B("cold/07"))], [])));

            // Values this node has: value compares and prev_kv work as usual.
            var local = await Write(new KvTxn(
                [new KvCompare(B("fresh/1"), CompareTarget.Value, CompareOp.Equal, Value: B("one"))],
                [KvOp.Put(B("fresh/1"), B("two"), prevKv: true)],
                []));
            Assert.True(local.Succeeded);
            Assert.Equal("one", S(local.Results[0].Previous!.Value.Value));

            // Every replica applied all of it, and agrees on every key and version (metadata only).
            var last = (await Write(KvTxn.Single(KvOp.Put(B("fresh/2"), B("last"))))).Index;
            foreach (var n in c.Running)
            {
                await Eventually.TrueAsync(() => n.GetStatus().AppliedIndex >= last, TimeSpan.FromSeconds(30), $"node {n.NodeId} applied index {last}");
                Assert.Equal("last", S((await n.GetAsync(B("fresh/2"), ReadConsistency.Serializable))!.Value.Value));
            }

            Assert.Equal("two", S((await leader.GetAsync(B("fresh/1"), ReadConsistency.Linearizable))!.Value.Value));

            var keys = c.Running.Select(n => string.Join(",", n.Store.ScanMetadata(B("c"), B("g"), 0, 0).Select(m => $"{S(m.Key)}@{m.Version}"))).ToList();
            Assert.Single(keys.Distinct());
            Assert.Contains("cold/02@" + cas.Index, keys[0], StringComparison.Ordinal);
            Assert.DoesNotContain("cold/01@", keys[0], StringComparison.Ordinal);
            Assert.DoesNotContain("cold/15@", keys[0], StringComparison.Ordinal);
        }
        finally
        {
            rgw.StartGateway();
        }

        // The store is back: archived values read again, value compares on them work, replicas identical.
        var swapped = await Write(new KvTxn(
            [new KvCompare(B("cold/05"), CompareTarget.Value, CompareOp.Equal, Value: B(Cold(5)))],
            [KvOp.Put(B("cold/06"), B("six"), prevKv: true)],
            []));
        Assert.True(swapped.Succeeded);
        Assert.Equal(Cold(6), S(swapped.Results[0].Previous!.Value.Value));
        foreach (var n in c.Running)
        {
            await Eventually.TrueAsync(() => n.GetStatus().AppliedIndex >= swapped.Index, TimeSpan.FromSeconds(30), $"node {n.NodeId} applied index {swapped.Index}");
            Assert.Equal(Cold(30), S((await n.GetAsync(B("cold/30"), ReadConsistency.Serializable))!.Value.Value));
            Assert.Equal("swapped", S((await n.GetAsync(B("cold/02"), ReadConsistency.Serializable))!.Value.Value));
            Assert.Equal("six", S((await n.GetAsync(B("cold/06"), ReadConsistency.Serializable))!.Value.Value));
            Assert.Null(await n.GetAsync(B("cold/01"), ReadConsistency.Serializable));
            Assert.Empty(await n.RangeAsync(B("cold/1"), B("cold/2"), 0, ReadConsistency.Serializable));
            Assert.Equal("yes", S((await n.GetAsync(B("cas/failed"), ReadConsistency.Serializable))!.Value.Value));
            Assert.Equal(Cold(99), S((await n.GetAsync(B("cold/rid"), ReadConsistency.Serializable))!.Value.Value));
        }

        await c.AssertReplicasIdenticalAsync();
    }

    public void Dispose()
    {
        foreach (var s3 in _s3)
        {
            s3.Dispose();
        }
    }
}
