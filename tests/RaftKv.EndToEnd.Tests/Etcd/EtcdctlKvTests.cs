using static RaftKv.EndToEnd.Tests.Etcd.EtcdJson;

namespace RaftKv.EndToEnd.Tests.Etcd;

/// <summary>etcdctl's key-value commands against a real 3-node RaftKv: revisions, versions, prefixes,
/// prev-kv, reads at a revision, txn in the interactive (stdin) form, compaction, health.</summary>
[Collection(EtcdCollection.Name)]
public sealed class EtcdctlKvTests(EtcdClusterFixture fixture)
{
    private string Follower => fixture.Cluster.Nodes.First(n => n.IsRunning).Grpc;

    [Fact]
    public async Task PutGetDeleteFollowEtcdsRevisionsAndVersions()
    {
        var ep = fixture.Endpoints;
        var r1 = Revision((await Etcdctl.RunAsync(ep, "put", "kv/a", "one", "-w", "json")).Ok().Json);
        var r2 = Revision((await Etcdctl.RunAsync(ep, "put", "kv/b", "two", "-w", "json")).Ok().Json);
        var r3 = Revision((await Etcdctl.RunAsync(ep, "put", "kv/a", "uno", "-w", "json")).Ok().Json);
        Assert.Equal(r1 + 1, r2);
        Assert.Equal(r2 + 1, r3);

        // Every member answers the same thing, linearizably.
        foreach (var node in fixture.Cluster.Nodes)
        {
            var get = (await Etcdctl.RunAsync(node.Grpc, "get", "kv/a", "-w", "json")).Ok().Json;
            Assert.True(Revision(get) >= r3);
            var kv = Kv(Assert.Single(Kvs(get)));
            Assert.Equal(("kv/a", "uno", r1, r3, 2L), kv);
        }

        // The plain output etcdctl users read.
        Assert.Equal("kv/a\nuno\nkv/b\ntwo\n", (await Etcdctl.RunAsync(ep, "get", "kv/", "--prefix")).Ok().Out);
        Assert.Equal("kv/a\nkv/b\n", (await Etcdctl.RunAsync(ep, "get", "kv/", "--prefix", "--keys-only")).Ok().Out.Replace("\n\n", "\n", StringComparison.Ordinal));
        var prefix = (await Etcdctl.RunAsync(ep, "get", "kv/", "--prefix", "--limit", "1", "-w", "json")).Ok().Json;
        Assert.Equal(2, Long(prefix, "count"));
        Assert.True(prefix.GetProperty("more").GetBoolean());
        Assert.Equal("kv/a", Kv(Assert.Single(Kvs(prefix))).Key);

        // Reads at a past revision.
        Assert.Equal("kv/a\none\n", (await Etcdctl.RunAsync(ep, "get", "kv/a", "--rev", r1.ToString(System.Globalization.CultureInfo.InvariantCulture))).Ok().Out);
        Assert.Equal(string.Empty, (await Etcdctl.RunAsync(ep, "get", "kv/b", "--rev", r1.ToString(System.Globalization.CultureInfo.InvariantCulture))).Ok().Out);

        // prev-kv on put and delete; a write through a follower is forwarded to the leader.
        var put = (await Etcdctl.RunAsync(Follower, "put", "kv/b", "deux", "--prev-kv", "-w", "json")).Ok().Json;
        Assert.Equal(("kv/b", "two", r2, r2, 1L), Kv(put.GetProperty("prev_kv")));
        var del = (await Etcdctl.RunAsync(ep, "del", "kv/a", "--prev-kv", "-w", "json")).Ok().Json;
        Assert.Equal(1, Long(del, "deleted"));
        Assert.Equal(("kv/a", "uno", r1, r3, 2L), Kv(Assert.Single(del.GetProperty("prev_kvs").EnumerateArray())));
        var afterDelete = Revision(del);

        // A delete that deletes nothing does not bump the revision.
        var none = (await Etcdctl.RunAsync(ep, "del", "kv/nothing", "-w", "json")).Ok().Json;
        Assert.Equal(0, Long(none, "deleted"));
        Assert.Equal(afterDelete, Revision(none));

        // Re-created: version starts again at 1 with a new create revision.
        var again = Revision((await Etcdctl.RunAsync(ep, "put", "kv/a", "again", "-w", "json")).Ok().Json);
        var kvAgain = Kv(Assert.Single(Kvs((await Etcdctl.RunAsync(ep, "get", "kv/a", "-w", "json")).Ok().Json)));
        Assert.Equal(("kv/a", "again", again, again, 1L), kvAgain);

        Assert.Equal("2\n", (await Etcdctl.RunAsync(ep, "del", "kv/", "--prefix")).Ok().Out);
        var empty = (await Etcdctl.RunAsync(ep, "get", "kv/", "--prefix", "-w", "json")).Ok().Json;
        Assert.Equal(0, Long(empty, "count"));
        Assert.Empty(Kvs(empty));
    }

    [Fact]
    public async Task TxnInTheInteractiveStdinForm()
    {
        var ep = fixture.Endpoints;
        const string CreateIfAbsent = "create(\"txn/k\") = \"0\"\n\nput txn/k first\n\nget txn/k\n\n";
        var first = (await Etcdctl.RunWithInputAsync(ep, CreateIfAbsent, "txn")).Ok();
        Assert.Equal("SUCCESS\n\nOK\n", first.Out);
        var second = (await Etcdctl.RunWithInputAsync(ep, CreateIfAbsent, "txn")).Ok();
        Assert.Equal("FAILURE\n\ntxn/k\nfirst\n", second.Out);

        // Compares on value, version and mod; several ops; -w json shows the header revision and the responses.
        var (_, _, create, mod, _) = Kv(Assert.Single(Kvs((await Etcdctl.RunAsync(ep, "get", "txn/k", "-w", "json")).Ok().Json)));
        var swap = $"value(\"txn/k\") = \"first\"\nversion(\"txn/k\") = \"1\"\nmod(\"txn/k\") = \"{mod}\"\n\nput txn/k second\nput txn/other x\n\n\n";
        var json = (await Etcdctl.RunWithInputAsync(ep, swap, "txn", "-w", "json")).Ok().Json;
        Assert.True(json.GetProperty("succeeded").GetBoolean());
        Assert.True(Revision(json) > mod);
        var txnRevision = Revision(json);
        Assert.Equal(2, json.GetProperty("responses").GetArrayLength());
        var both = Kvs((await Etcdctl.RunAsync(ep, "get", "txn/", "--prefix", "-w", "json")).Ok().Json).Select(Kv).ToList();
        Assert.Equal([("txn/k", "second", create, txnRevision, 2L), ("txn/other", "x", txnRevision, txnRevision, 1L)], both);

        // A failed compare runs the failure branch and changes nothing.
        var stale = $"mod(\"txn/k\") = \"{mod}\"\n\nput txn/k lost\n\nput txn/failed yes\n\n";
        Assert.Equal("FAILURE\n\nOK\n", (await Etcdctl.RunWithInputAsync(ep, stale, "txn")).Ok().Out);
        Assert.Equal("txn/k\nsecond\n", (await Etcdctl.RunAsync(ep, "get", "txn/k")).Ok().Out);
        (await Etcdctl.RunAsync(ep, "del", "txn/", "--prefix")).Ok();
    }

    [Fact]
    public async Task CompactionRefusesOlderRevisionsWithEtcdsErrors()
    {
        var ep = fixture.Endpoints;
        var r1 = Revision((await Etcdctl.RunAsync(ep, "put", "cmp/k", "v1", "-w", "json")).Ok().Json);
        var r2 = Revision((await Etcdctl.RunAsync(ep, "put", "cmp/k", "v2", "-w", "json")).Ok().Json);
        var s1 = r1.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var s2 = r2.ToString(System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal("cmp/k\nv1\n", (await Etcdctl.RunAsync(ep, "get", "cmp/k", "--rev", s1)).Ok().Out);

        Assert.Equal($"compacted revision {r2}\n", (await Etcdctl.RunAsync(ep, "compaction", s2)).Ok().Out);
        foreach (var node in fixture.Cluster.Nodes)
        {
            var old = await Etcdctl.RunAsync(node.Grpc, "get", "cmp/k", "--rev", s1);
            Assert.NotEqual(0, old.Code);
            Assert.Contains("etcdserver: mvcc: required revision has been compacted", old.Err);
            Assert.Equal("cmp/k\nv2\n", (await Etcdctl.RunAsync(node.Grpc, "get", "cmp/k", "--rev", s2)).Ok().Out);
        }

        var again = await Etcdctl.RunAsync(ep, "compaction", s1);
        Assert.Contains("etcdserver: mvcc: required revision has been compacted", again.Err);
        var zero = await Etcdctl.RunAsync(ep, "compaction", "0"); // etcd: at or below the compact revision
        Assert.Contains("etcdserver: mvcc: required revision has been compacted", zero.Err);

        var future = await Etcdctl.RunAsync(ep, "compaction", "999999999");
        Assert.Contains("etcdserver: mvcc: required revision is a future revision", future.Err);

        // A watch from a compacted revision is canceled with the compact revision.
        using var watch = Etcdctl.Spawn(ep, "watch", "cmp/k", "--rev", s1);
        Assert.NotEqual(0, await watch.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        Assert.Contains("watch was canceled (etcdserver: mvcc: required revision has been compacted)", watch.Stderr);
    }

    [Fact]
    public async Task EndpointHealthReportsEveryMemberHealthy()
    {
        var health = (await Etcdctl.RunAsync(fixture.Endpoints, "endpoint", "health")).Ok();
        var lines = (health.Out + health.Err).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, lines.Count(l => l.Contains("is healthy: successfully committed proposal", StringComparison.Ordinal)));
        var hashes = (await Etcdctl.RunAsync(fixture.Endpoints, "endpoint", "hashkv", "-w", "json")).Ok().Json;
        Assert.Equal(3, hashes.GetArrayLength());
    }
}
