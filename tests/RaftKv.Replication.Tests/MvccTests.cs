using System.Text;
using RaftKv.Replication.Api;

namespace RaftKv.Replication.Tests;

/// <summary>The MVCC model of issue #14 on a real node: revisions, per-key metadata, Range options,
/// txn rules, compaction and revision watches.</summary>
[Collection("cluster")]
public sealed class MvccTests
{
    private static byte[] B(string s) => Encoding.UTF8.GetBytes(s);

    private static string S(ReadOnlyMemory<byte> b) => Encoding.UTF8.GetString(b.Span);

    private static KvTxn Put(string k, string v, long lease = 0) => KvTxn.Single(new KvOp(KvOpKind.Put, B(k), B(v), Lease: lease));

    private static async Task GrantAsync(KvNode n, params long[] ids)
    {
        foreach (var id in ids)
        {
            await n.LeaseGrantAsync(id, 600);
        }
    }

    [Fact]
    public async Task RevisionsAndPerKeyMetadataFollowEtcd()
    {
        await using var c = await TestCluster.StartAsync(1);
        var n = await c.WaitForLeaderAsync();
        Assert.Equal(1, n.Revision); // etcd's initial revision
        await GrantAsync(n, 7, 9); // a put may only name a granted lease; granting moves no revision
        Assert.Equal(1, n.Revision);
        var first = await n.WriteAsync(Put("a", "1", lease: 7));
        Assert.Equal(2, first.Revision);
        var both = await n.WriteAsync(new KvTxn([], [KvOp.Put(B("a"), B("2")), KvOp.Put(B("b"), B("1"))], []));
        Assert.Equal(3, both.Revision); // one revision per txn, shared by its changes
        var readOnly = await n.WriteAsync(new KvTxn([], [KvOp.Get(B("a"))], []));
        Assert.Equal(3, readOnly.Revision); // nothing changed: no new revision
        var deleteNothing = await n.WriteAsync(KvTxn.Single(KvOp.Delete(B("zz"))));
        Assert.Equal(3, deleteNothing.Revision);
        Assert.Equal(3, n.Revision);

        var a = (await n.RangeAsync(new RangeRequest(B("a")), ReadConsistency.Linearizable)).Kvs.Single();
        Assert.Equal((2L, 3L, 2L, 0L), (a.CreateRevision, a.ModRevision, a.Version, a.Lease)); // the second put set lease 0
        await n.WriteAsync(KvTxn.Single(KvOp.Delete(B("a"))));
        var again = await n.WriteAsync(Put("a", "3", lease: 9));
        var a2 = (await n.RangeAsync(new RangeRequest(B("a")), ReadConsistency.Serializable)).Kvs.Single();
        Assert.Equal((again.Revision, again.Revision, 1L, 9L), (a2.CreateRevision, a2.ModRevision, a2.Version, a2.Lease)); // delete reset it

        // Compares on every numeric target, and the native version = mod revision.
        var cas = await n.WriteAsync(new KvTxn(
            [
                new KvCompare(B("a"), CompareTarget.Version, CompareOp.Equal, 1), new KvCompare(B("a"), CompareTarget.Create, CompareOp.Equal, Revision: again.Revision),
                new KvCompare(B("a"), CompareTarget.Mod, CompareOp.Equal, again.Revision), new KvCompare(B("a"), CompareTarget.Lease, CompareOp.Equal, Lease: 9),
                new KvCompare(B("zz"), CompareTarget.Version, CompareOp.Equal, 0), new KvCompare(B("a"), CompareTarget.Version, CompareOp.Greater, 0, RangeEnd: B("c")),
            ],
            [KvOp.Put(B("a"), B("4"))],
            []));
        Assert.True(cas.Succeeded);
        Assert.Equal(cas.Revision, (await n.GetAsync(B("a"), ReadConsistency.Linearizable))!.Value.Version);
        var failed = await n.WriteAsync(new KvTxn([new KvCompare(B("a"), CompareTarget.Value, CompareOp.Equal, Value: B("x"), RangeEnd: B("c"))], [KvOp.Put(B("q"), B("1"))], []));
        Assert.False(failed.Succeeded);
        Assert.False((await n.WriteAsync(new KvTxn([new KvCompare(B("nope"), CompareTarget.Value, CompareOp.NotEqual, Value: B("x"))], [KvOp.Put(B("q"), B("1"))], []))).Succeeded); // etcd: value compare on a missing key fails

        // The revision survives a restart (it is in the LSM).
        var before = n.Revision;
        await c.StopNodeAsync(1);
        await c.StartNodeAsync(1);
        var restarted = await c.WaitForLeaderAsync();
        Assert.Equal(before, restarted.Revision);
        Assert.Equal(before + 1, (await restarted.WriteAsync(Put("b", "2"))).Revision);
    }

    /// <summary>etcd sorts by value before it drops values for keys_only: on every path (current, old revision,
    /// serializable, linearizable, limit, count_only, and a range inside a write txn, applied through the log).</summary>
    [Fact]
    public async Task KeysOnlySortedByValueIsSortedByValueOnEveryPath()
    {
        await using var c = await TestCluster.StartAsync(1);
        var n = await c.WaitForLeaderAsync();
        foreach (var (k, v) in new[] { ("s/a", "4"), ("s/b", "2"), ("s/c", "3"), ("s/d", "1") })
        {
            await n.WriteAsync(Put(k, v)); // revisions 2..5
        }

        string[] byValue = ["s/d", "s/b", "s/c", "s/a"];
        RangeRequest Request(long limit = 0, long revision = 0, bool countOnly = false)
            => new(B("s/"), B("s0"), Limit: limit, Revision: revision, SortOrder: SortOrder.Ascend, SortTarget: SortTarget.Value, KeysOnly: true, CountOnly: countOnly);
        foreach (var consistency in new[] { ReadConsistency.Linearizable, ReadConsistency.Serializable })
        {
            var all = await n.RangeAsync(Request(), consistency);
            Assert.Equal(byValue, all.Kvs.Select(kv => S(kv.Key)));
            Assert.All(all.Kvs, kv => Assert.True(kv.Value.IsEmpty));
            var limited = await n.RangeAsync(Request(limit: 2), consistency);
            Assert.Equal(byValue[..2], limited.Kvs.Select(kv => S(kv.Key)));
            Assert.Equal((true, 4L), (limited.More, limited.Count));
            var counted = await n.RangeAsync(Request(countOnly: true), consistency);
            Assert.Equal((0, 4L), (counted.Kvs.Count, counted.Count));
        }

        await n.WriteAsync(Put("s/a", "0")); // revision 6: s/a sorts first now, but not at revision 5
        var old = await n.RangeAsync(Request(revision: 5), ReadConsistency.Linearizable);
        Assert.Equal(byValue, old.Kvs.Select(kv => S(kv.Key)));

        // A write txn (a put, then the range): applied through the log, it reads the txn's own write.
        var txn = await n.WriteAsync(new KvTxn([], [KvOp.Put(B("s/c"), B("9")), KvOp.RangeRead(Request()), KvOp.RangeRead(Request(limit: 1))], []));
        Assert.Equal(["s/a", "s/d", "s/b", "s/c"], txn.Results[1].Range!.Kvs.Select(kv => S(kv.Key)));
        Assert.All(txn.Results[1].Range!.Kvs, kv => Assert.True(kv.Value.IsEmpty));
        Assert.Equal(["s/a"], txn.Results[2].Range!.Kvs.Select(kv => S(kv.Key)));
        Assert.True(txn.Results[2].Range!.More);
    }

    [Fact]
    public async Task RangeHonoursEveryOptionAndOldRevisions()
    {
        await using var c = await TestCluster.StartAsync(1);
        var n = await c.WaitForLeaderAsync();
        for (var i = 0; i < 5; i++)
        {
            await n.WriteAsync(Put($"k{i}", $"v{4 - i}")); // revisions 2..6
        }

        await n.WriteAsync(Put("k1", "again")); // 7: k1 version 2
        var all = await n.RangeAsync(new RangeRequest(B("k"), B("l")), ReadConsistency.Linearizable);
        Assert.Equal(["k0", "k1", "k2", "k3", "k4"], all.Kvs.Select(kv => S(kv.Key)));
        Assert.Equal(7, all.Revision);

        var limited = await n.RangeAsync(new RangeRequest(B("k"), B("l"), Limit: 2), ReadConsistency.Linearizable);
        Assert.Equal((2, true, 5L), (limited.Kvs.Count, limited.More, limited.Count));
        foreach (var noLimit in new[] { long.MaxValue, int.MaxValue, int.MaxValue + 1L })
        {
            var unlimited = await n.RangeAsync(new RangeRequest(B("k"), B("l"), Limit: noLimit), ReadConsistency.Linearizable);
            Assert.Equal((5, false), (unlimited.Kvs.Count, unlimited.More)); // etcd: a limit that overflows reads all
        }

        // etcd sorts only the first limit + 1 keys (k0, k1, k2) when the sort order is defaulted: not k1, k4.
        var byValueLimited = await n.RangeAsync(new RangeRequest(B("k"), B("l"), Limit: 2, SortTarget: SortTarget.Value), ReadConsistency.Linearizable);
        Assert.Equal(["k1", "k2"], byValueLimited.Kvs.Select(kv => S(kv.Key)));
        Assert.True(byValueLimited.More);
        var countOnly = await n.RangeAsync(new RangeRequest(B("k"), B("l"), CountOnly: true), ReadConsistency.Linearizable);
        Assert.Equal((0, 5L), (countOnly.Kvs.Count, countOnly.Count));
        var keysOnly = await n.RangeAsync(new RangeRequest(B("k"), [0], KeysOnly: true), ReadConsistency.Linearizable);
        Assert.All(keysOnly.Kvs, kv => Assert.True(kv.Value.IsEmpty));
        Assert.Equal(5, keysOnly.Kvs.Count);

        var byValueDesc = await n.RangeAsync(new RangeRequest(B("k"), B("l"), SortOrder: SortOrder.Descend, SortTarget: SortTarget.Value), ReadConsistency.Linearizable);
        Assert.Equal(["v4", "v2", "v1", "v0", "again"], byValueDesc.Kvs.Select(kv => S(kv.Value)));
        var byModDefault = await n.RangeAsync(new RangeRequest(B("k"), B("l"), SortTarget: SortTarget.Mod), ReadConsistency.Linearizable); // None + Mod = ascending
        Assert.Equal(["k0", "k2", "k3", "k4", "k1"], byModDefault.Kvs.Select(kv => S(kv.Key)));
        var keyDesc = await n.RangeAsync(new RangeRequest(B("k"), B("l"), Limit: 1, SortOrder: SortOrder.Descend), ReadConsistency.Linearizable);
        Assert.Equal(("k4", true), (S(keyDesc.Kvs[0].Key), keyDesc.More));
        var filtered = await n.RangeAsync(new RangeRequest(B("k"), B("l"), MinModRevision: 4, MaxCreateRevision: 5), ReadConsistency.Linearizable);
        Assert.Equal(["k1", "k2", "k3"], filtered.Kvs.Select(kv => S(kv.Key)));
        Assert.Equal(5, filtered.Count); // etcd counts before the filters

        var old = await n.RangeAsync(new RangeRequest(B("k"), B("l"), Revision: 4), ReadConsistency.Linearizable);
        Assert.Equal(["k0", "k1", "k2"], old.Kvs.Select(kv => S(kv.Key)));
        Assert.Equal("v3", S(old.Kvs[1].Value));
        Assert.Equal(7, old.Revision); // the header revision is the current one
        await Assert.ThrowsAsync<FutureRevisionException>(() => n.RangeAsync(new RangeRequest(B("k"), Revision: 99), ReadConsistency.Linearizable));

        Assert.Equal(7, await n.CompactRevisionAsync(0, physical: false)); // etcd: 0 before any compaction is a no-op
        Assert.Equal(0, n.CompactRevision);
        Assert.Equal(7, await n.CompactRevisionAsync(5, physical: true));
        Assert.Equal(5, n.CompactRevision);
        var atCompacted = await n.RangeAsync(new RangeRequest(B("k"), B("l"), Revision: 5), ReadConsistency.Linearizable);
        Assert.Equal(4, atCompacted.Kvs.Count);
        var e = await Assert.ThrowsAsync<RevisionCompactedException>(() => n.RangeAsync(new RangeRequest(B("k"), Revision: 4), ReadConsistency.Linearizable));
        Assert.Equal(5, e.CompactRevision);
        await Assert.ThrowsAsync<RevisionCompactedException>(() => n.CompactRevisionAsync(5, false));
        await Assert.ThrowsAsync<RevisionCompactedException>(() => n.CompactRevisionAsync(0, false));
        await Assert.ThrowsAsync<RevisionCompactedException>(() => n.CompactRevisionAsync(-1, false));
        await Assert.ThrowsAsync<FutureRevisionException>(() => n.CompactRevisionAsync(8, false));

        // The compact revision and the history survive a restart.
        await c.StopNodeAsync(1);
        await c.StartNodeAsync(1);
        n = await c.WaitForLeaderAsync();
        Assert.Equal(5, n.CompactRevision);
        Assert.Equal("v3", S((await n.RangeAsync(new RangeRequest(B("k1"), Revision: 6), ReadConsistency.Linearizable)).Kvs[0].Value));
    }

    [Fact]
    public async Task TxnRulesFollowEtcd()
    {
        await using var c = await TestCluster.StartAsync(1);
        var n = await c.WaitForLeaderAsync();
        await GrantAsync(n, 5, 6);
        await n.WriteAsync(Put("a", "1", lease: 5));

        // A Range inside a txn sees the txn's own earlier writes; a nested txn's compare does not (etcd decides the
        // whole branch path before running any op): b did not exist before the txn, so the nested txn fails.
        var r = await n.WriteAsync(new KvTxn(
            [],
            [KvOp.Put(B("b"), B("2")), KvOp.RangeRead(new RangeRequest(B("a"), B("c"))), KvOp.Txn(new KvTxn([new KvCompare(B("b"), CompareTarget.Value, CompareOp.Equal, Value: B("2"))], [KvOp.Put(B("c"), B("3"))], []))],
            []));
        Assert.Equal(2, r.Results[1].Range!.Kvs.Count);
        Assert.Equal("2", S(r.Results[1].Range!.Kvs[1].Value));
        Assert.False(r.Results[2].Nested!.Succeeded);
        Assert.Empty((await n.RangeAsync(new RangeRequest(B("c")), ReadConsistency.Linearizable)).Kvs);

        await Assert.ThrowsAsync<DuplicateKeyInTxnException>(() => n.WriteAsync(new KvTxn([], [KvOp.Put(B("x"), B("1")), KvOp.Put(B("x"), B("2"))], [])));
        await Assert.ThrowsAsync<DuplicateKeyInTxnException>(() => n.WriteAsync(new KvTxn([], [KvOp.DeletePrefix(B("x")), KvOp.Put(B("x1"), B("2"))], [])));
        await Assert.ThrowsAsync<DuplicateKeyInTxnException>(() => n.WriteAsync(new KvTxn([], [KvOp.Put(B("x"), B("1")), KvOp.Txn(new KvTxn([], [KvOp.Put(B("x"), B("2"))], []))], [])));
        await n.WriteAsync(new KvTxn([], [KvOp.Txn(new KvTxn([], [KvOp.Put(B("y"), B("1"))], [KvOp.Put(B("y"), B("2"))]))], [])); // then/else may share a key
        await n.WriteAsync(new KvTxn([], [KvOp.DeletePrefix(B("x")), KvOp.DeleteRange(B("x"), B("y"))], [])); // overlapping deletes are fine
        var tooMany = await Assert.ThrowsAsync<TooManyTxnOpsException>(() => n.WriteAsync(new KvTxn([], Enumerable.Range(0, 129).Select(i => KvOp.Put(B($"m{i}"), B("v"))).ToList(), [])));
        Assert.Equal(128, tooMany.Max);

        // ignore_value / ignore_lease keep what the key has; a missing key is etcd's "key not found".
        var before = n.Revision;
        await Assert.ThrowsAsync<KeyNotFoundForIgnoreException>(() => n.WriteAsync(KvTxn.Single(new KvOp(KvOpKind.Put, B("missing"), IgnoreValue: true))));
        Assert.Equal(before, n.Revision);
        var kept = await n.WriteAsync(KvTxn.Single(new KvOp(KvOpKind.Put, B("a"), IgnoreValue: true, Lease: 6, PrevKv: true)));
        Assert.Equal("1", S(kept.Results[0].PrevKv!.Value.Value));
        var a = (await n.RangeAsync(new RangeRequest(B("a")), ReadConsistency.Linearizable)).Kvs[0];
        Assert.Equal(("1", 6L, 2L), (S(a.Value), a.Lease, a.Version));
        await n.WriteAsync(KvTxn.Single(new KvOp(KvOpKind.Put, B("a"), B("new"), IgnoreLease: true)));
        a = (await n.RangeAsync(new RangeRequest(B("a")), ReadConsistency.Linearizable)).Kvs[0];
        Assert.Equal(("new", 6L), (S(a.Value), a.Lease));

        // Delete range with prev_kv returns every deleted KV.
        var del = await n.WriteAsync(KvTxn.Single(new KvOp(KvOpKind.DeleteRange, B("a"), RangeEnd: B("c"), PrevKv: true)));
        Assert.Equal(["a", "b"], del.Results[0].PrevKvs!.Select(kv => S(kv.Key)));
        Assert.Equal(2, del.Results[0].Deleted);
    }

    [Fact]
    public async Task WatchCatchesUpFromThePastAcrossARestartThenGoesLiveWithoutGapsOrDuplicates()
    {
        await using var c = await TestCluster.StartAsync(1);
        var n = await c.WaitForLeaderAsync();
        for (var i = 0; i < 20; i++)
        {
            await n.WriteAsync(Put($"w/{i % 3}", $"{i}"));
        }

        await n.WriteAsync(KvTxn.Single(KvOp.Delete(B("w/0"))));
        await n.WriteAsync(Put("other", "x"));
        await n.FlushAsync();
        await c.StopNodeAsync(1);
        await c.StartNodeAsync(1);
        n = await c.WaitForLeaderAsync();

        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var seen = new List<long>();
        var deletes = 0;
        var writer = Task.Run(async () =>
        {
            for (var i = 0; i < 200; i++)
            {
                await n.WriteAsync(Put($"w/{i % 5}", $"live{i}"), cts.Token);
            }
        });
        await foreach (var batch in n.WatchRevisionsAsync(B("w/"), KeyRanges.PrefixEnd(B("w/")), 2, prevKv: true, cts.Token))
        {
            var rev = batch[0].Kv.ModRevision;
            Assert.All(batch, e => Assert.Equal(rev, e.Kv.ModRevision));
            seen.Add(rev);
            deletes += batch.Count(e => e.Type == MvccEventType.Delete);
            if (rev > 4 && batch[0].Type == MvccEventType.Put && batch[0].Kv.Version > 1)
            {
                Assert.NotNull(batch[0].PrevKv);
                Assert.Equal(batch[0].Kv.Version - 1, batch[0].PrevKv!.Value.Version);
            }

            if (seen.Count == 221)
            {
                break;
            }
        }

        await writer;

        // Revisions 2..21 (puts), 22 (delete), 23 is "other" (not in the range), then 24..223 live: each once, in order.
        Assert.Equal(Enumerable.Range(2, 21).Select(i => (long)i).Concat(Enumerable.Range(24, 200).Select(i => (long)i)), seen);
        Assert.Equal(1, deletes);

        await n.CompactRevisionAsync(10, false);
        await Assert.ThrowsAsync<RevisionCompactedException>(async () =>
        {
            await foreach (var unused in n.WatchRevisionsAsync(B("w/"), [0], 9, false, cts.Token))
            {
            }
        });
    }
}
