using dotnet_etcd;
using Etcdserverpb;
using Google.Protobuf;
using Xunit.Abstractions;
using SortOrder = Etcdserverpb.RangeRequest.Types.SortOrder;
using SortTarget = Etcdserverpb.RangeRequest.Types.SortTarget;

namespace RaftKv.EndToEnd.Tests.Etcd.Clients;

/// <summary>dotnet-etcd's KV surface (Put/Get/GetRange/GetVal/GetRangeVal/Delete/DeleteRange, every request option,
/// Txn with nested operations, Compact) against a real etcd 3.4 and RaftKv: every answer, error included (status code and
/// etcd's text), must be the same (<see cref="DotnetEtcdDiffFixture"/>).</summary>
public sealed class DotnetEtcdKvSurfaceTests(DotnetEtcdDiffFixture fixture, ITestOutputHelper output) : IClassFixture<DotnetEtcdDiffFixture>
{
    private static ByteString B(string s) => ByteString.CopyFromUtf8(s);

    [Fact]
    public async Task StringOverloadsAnswerAsEtcd()
    {
        await fixture.SameAsync("PutAsync(string)", c => c.PutAsync("s/a", "1"));
        await fixture.SameAsync("Put(string)", c => Task.FromResult(c.Put("s/b", "2")));
        await fixture.SameAsync("PutAsync(empty key)", c => c.PutAsync(string.Empty, "x"));
        await fixture.SameAsync("PutAsync(empty value)", c => c.PutAsync("s/c", string.Empty));
        await fixture.SameAsync("GetAsync(string)", c => c.GetAsync("s/a"));
        await fixture.SameAsync("Get(string)", c => Task.FromResult(c.Get("s/b")));
        await fixture.SameAsync("GetAsync(missing)", c => c.GetAsync("s/none"));
        await fixture.SameAsync("GetAsync(empty key)", c => c.GetAsync(string.Empty));
        await fixture.SameAsync("GetValAsync", c => c.GetValAsync("s/a"));
        await fixture.SameAsync("GetVal(missing)", c => Task.FromResult(c.GetVal("s/none")));
        await fixture.SameAsync("GetValAsync(empty value)", c => c.GetValAsync("s/c"));
        await fixture.SameAsync("GetRangeAsync", c => c.GetRangeAsync("s/"));
        await fixture.SameAsync("GetRange(no match)", c => Task.FromResult(c.GetRange("zz/")));
        await fixture.SameAsync("GetRangeValAsync", c => c.GetRangeValAsync("s/"));
        await fixture.SameAsync("GetRangeVal", c => Task.FromResult(c.GetRangeVal("s/")));
        await fixture.SameAsync("GetRangeAsync(empty prefix: every key)", c => c.GetRangeAsync(string.Empty));
        await fixture.SameAsync("DeleteAsync(string)", c => c.DeleteAsync("s/a"));
        await fixture.SameAsync("Delete(missing)", c => Task.FromResult(c.Delete("s/a")));
        await fixture.SameAsync("DeleteAsync(empty key)", c => c.DeleteAsync(string.Empty));
        await fixture.SameAsync("DeleteRangeAsync", c => c.DeleteRangeAsync("s/"));
        await fixture.SameAsync("DeleteRange(no match)", c => Task.FromResult(c.DeleteRange("s/")));
        await fixture.SameAsync("GetRangeAsync after", c => c.GetRangeAsync(string.Empty));
    }

    [Fact]
    public async Task EveryRangeOptionAnswersAsEtcd()
    {
        // A history: r/a..r/e with several versions, one deleted and recreated, one with a lease.
        var lease = await fixture.SameAsync("LeaseGrant", c => c.LeaseGrantAsync(new LeaseGrantRequest { ID = 7001, TTL = 600 }));
        output.WriteLine(lease);
        foreach (var (k, v) in new[] { ("r/a", "1"), ("r/b", "22"), ("r/c", "333"), ("r/a", "4444"), ("r/d", "5"), ("r/e", "6") })
        {
            await fixture.SameAsync($"put {k}", c => c.PutAsync(k, v));
        }

        await fixture.SameAsync("put with lease", c => c.PutAsync(new PutRequest { Key = B("r/f"), Value = B("7"), Lease = 7001 }));
        await fixture.SameAsync("delete r/b", c => c.DeleteAsync("r/b"));
        await fixture.SameAsync("put r/b", c => c.PutAsync("r/b", "8"));
        var head = (await fixture.Etcd.GetAsync("r/a")).Header.Revision;
        var ends = new (string Name, ByteString Key, ByteString End)[]
        {
            ("single", B("r/a"), ByteString.Empty),
            ("prefix", B("r/"), EtcdClient.GetRangeEnd(B("r/"))),
            ("[r/b, r/e)", B("r/b"), B("r/e")),
            ("backwards", B("r/e"), B("r/b")),
            ("from r/c", B("r/c"), ByteString.CopyFrom(0)),
            ("all", ByteString.CopyFrom(0), ByteString.CopyFrom(0)),
        };
        var requests = new List<(string, RangeRequest)>();
        foreach (var (name, key, end) in ends)
        {
            RangeRequest R() => new() { Key = key, RangeEnd = end };
            requests.Add((name, R()));
            foreach (var limit in new long[] { 1, 2, -1 })
            {
                var r = R();
                r.Limit = limit;
                requests.Add(($"{name} limit {limit}", r));
            }

            foreach (SortOrder order in Enum.GetValues<SortOrder>())
            {
                foreach (SortTarget target in Enum.GetValues<SortTarget>())
                {
                    var r = R();
                    r.SortOrder = order;
                    r.SortTarget = target;
                    r.Limit = 3;
                    requests.Add(($"{name} sort {order} by {target} limit 3", r));
                }
            }

            foreach (var rev in new[] { 0, 1, 2, head - 3, head, head + 1, head + 100, -1 })
            {
                var r = R();
                r.Revision = rev;
                requests.Add(($"{name} at revision {rev}", r));
            }

            var keysOnly = R();
            keysOnly.KeysOnly = true;
            requests.Add(($"{name} keys-only", keysOnly));
            var countOnly = R();
            countOnly.CountOnly = true;
            countOnly.Limit = 1;
            requests.Add(($"{name} count-only limit 1", countOnly));
            var both = R();
            both.CountOnly = true;
            both.KeysOnly = true;
            requests.Add(($"{name} count-only keys-only", both));
            var serializable = R();
            serializable.Serializable = true;
            requests.Add(($"{name} serializable", serializable));
            foreach (var (f, set) in new (string, Action<RangeRequest, long>)[]
            {
                ("min_mod", (r, v) => r.MinModRevision = v), ("max_mod", (r, v) => r.MaxModRevision = v),
                ("min_create", (r, v) => r.MinCreateRevision = v), ("max_create", (r, v) => r.MaxCreateRevision = v),
            })
            {
                foreach (var v in new[] { 3, head - 1, head + 5, -2 })
                {
                    var r = R();
                    set(r, v);
                    requests.Add(($"{name} {f} {v}", r));
                }
            }
        }

        requests.Add(("empty key", new RangeRequest { Key = ByteString.Empty }));
        requests.Add(("empty key with end", new RangeRequest { Key = ByteString.Empty, RangeEnd = B("r/c") }));
        // Not compared: a sort order or target outside the enum (docs/api.md, "Differences from etcd").
        output.WriteLine($"{requests.Count} range requests at head {head}");
        foreach (var (name, r) in requests)
        {
            await fixture.SameAsync($"GetAsync({name})", c => c.GetAsync(r));
        }

        await fixture.SameAsync("Get(RangeRequest)", c => Task.FromResult(c.Get(new RangeRequest { Key = B("r/a"), Revision = 3 })));
        await fixture.SameAsync("LeaseRevoke", c => c.LeaseRevokeAsync(new LeaseRevokeRequest { ID = 7001 }));
        await fixture.SameAsync("DeleteRange r/", c => c.DeleteRangeAsync("r/"));
    }

    [Fact]
    public async Task PutAndDeleteOptionsAnswerAsEtcd()
    {
        await fixture.SameAsync("LeaseGrant", c => c.LeaseGrantAsync(new LeaseGrantRequest { ID = 7101, TTL = 600 }));
        var puts = new (string, PutRequest)[]
        {
            ("new key prev_kv", new PutRequest { Key = B("p/a"), Value = B("1"), PrevKv = true }),
            ("again prev_kv", new PutRequest { Key = B("p/a"), Value = B("2"), PrevKv = true }),
            ("ignore_value on missing", new PutRequest { Key = B("p/none"), IgnoreValue = true }),
            ("ignore_value with a value", new PutRequest { Key = B("p/a"), Value = B("3"), IgnoreValue = true }),
            ("ignore_value", new PutRequest { Key = B("p/a"), IgnoreValue = true, PrevKv = true }),
            ("with lease", new PutRequest { Key = B("p/a"), Value = B("4"), Lease = 7101 }),
            ("ignore_lease with a lease", new PutRequest { Key = B("p/a"), Value = B("5"), Lease = 7101, IgnoreLease = true }),
            ("ignore_lease", new PutRequest { Key = B("p/a"), Value = B("6"), IgnoreLease = true, PrevKv = true }),
            ("ignore_lease on missing", new PutRequest { Key = B("p/none"), IgnoreLease = true }),
            ("ignore both", new PutRequest { Key = B("p/a"), IgnoreLease = true, IgnoreValue = true, PrevKv = true }),
            ("missing lease", new PutRequest { Key = B("p/b"), Value = B("1"), Lease = 424242 }),
            ("negative lease", new PutRequest { Key = B("p/b"), Value = B("1"), Lease = -1 }),
            ("no lease: detaches", new PutRequest { Key = B("p/a"), Value = B("7"), PrevKv = true }),
            ("empty key", new PutRequest { Key = ByteString.Empty, Value = B("1") }),
            // Not 0x00 0xFF…: RaftKv's reserved prefix (docs/api.md, "Differences from etcd").
            ("binary key", new PutRequest { Key = ByteString.CopyFrom(0, 254, 1), Value = ByteString.CopyFrom(0, 1, 2) }),
        };
        foreach (var (name, p) in puts)
        {
            await fixture.SameAsync($"PutAsync({name})", c => c.PutAsync(p));
        }

        await fixture.SameAsync("Put(PutRequest)", c => Task.FromResult(c.Put(new PutRequest { Key = B("p/c"), Value = B("c"), PrevKv = true })));
        await fixture.SameAsync("lease keys", c => c.LeaseTimeToLiveAsync(new LeaseTimeToLiveRequest { ID = 7101, Keys = true }), r =>
        {
            r.TTL = 0;
            return r;
        });
        var deletes = new (string, DeleteRangeRequest)[]
        {
            ("missing prev_kv", new DeleteRangeRequest { Key = B("p/none"), PrevKv = true }),
            ("range prev_kv", new DeleteRangeRequest { Key = B("p/a"), RangeEnd = B("p/c"), PrevKv = true }),
            ("backwards", new DeleteRangeRequest { Key = B("p/z"), RangeEnd = B("p/") }),
            ("empty key", new DeleteRangeRequest { Key = ByteString.Empty }),
            ("binary", new DeleteRangeRequest { Key = ByteString.CopyFrom(0, 254, 1), PrevKv = true }),
            ("from-key", new DeleteRangeRequest { Key = B("p/"), RangeEnd = ByteString.CopyFrom(0), PrevKv = true }),
        };
        foreach (var (name, d) in deletes)
        {
            await fixture.SameAsync($"DeleteAsync({name})", c => c.DeleteAsync(d));
        }

        await fixture.SameAsync("Delete(DeleteRangeRequest)", c => Task.FromResult(c.Delete(new DeleteRangeRequest { Key = B("p/c") })));
        await fixture.SameAsync("LeaseRevoke", c => c.LeaseRevokeAsync(new LeaseRevokeRequest { ID = 7101 }));
    }

    [Fact]
    public async Task NestedTxnAnswersAsEtcd()
    {
        await fixture.SameAsync("seed", c => c.PutAsync("t/a", "1"));
        await fixture.SameAsync("seed", c => c.PutAsync("t/b", "2"));
        var rev = (await fixture.Etcd.GetAsync("t/b")).Header.Revision;

        TxnRequest Nested(bool outer, bool inner)
        {
            var innerTxn = new TxnRequest();
            innerTxn.Compare.Add(new Compare { Key = B("t/b"), Target = Compare.Types.CompareTarget.Value, Result = inner ? Compare.Types.CompareResult.Equal : Compare.Types.CompareResult.NotEqual, Value = B("2") });
            innerTxn.Success.Add(new RequestOp { RequestPut = new PutRequest { Key = B("t/c"), Value = B("inner"), PrevKv = true } });
            innerTxn.Success.Add(new RequestOp { RequestRange = new RangeRequest { Key = B("t/"), RangeEnd = B("t0") } });
            innerTxn.Failure.Add(new RequestOp { RequestDeleteRange = new DeleteRangeRequest { Key = B("t/a"), PrevKv = true } });
            var txn = new TxnRequest();
            txn.Compare.Add(new Compare { Key = B("t/a"), Target = Compare.Types.CompareTarget.Create, Result = outer ? Compare.Types.CompareResult.Greater : Compare.Types.CompareResult.Less, CreateRevision = 0 });
            txn.Compare.Add(new Compare { Key = B("t/"), RangeEnd = B("t0"), Target = Compare.Types.CompareTarget.Mod, Result = Compare.Types.CompareResult.Less, ModRevision = rev + 100 });
            txn.Success.Add(new RequestOp { RequestTxn = innerTxn });
            txn.Success.Add(new RequestOp { RequestRange = new RangeRequest { Key = B("t/c") } });
            txn.Failure.Add(new RequestOp { RequestPut = new PutRequest { Key = B("t/f"), Value = B("failure") } });
            return txn;
        }

        await fixture.SameAsync("nested success/success", c => c.TransactionAsync(Nested(true, true)));
        await fixture.SameAsync("nested success/failure", c => c.TransactionAsync(Nested(true, false)));
        await fixture.SameAsync("nested failure", c => c.TransactionAsync(Nested(false, true)));
        await fixture.SameAsync("Transaction (sync)", c => Task.FromResult(c.Transaction(Nested(true, true))));

        // Bad transactions: duplicate keys across put/delete, in a nested txn, too many operations, empty compare key,
        // a lease that does not exist, an empty txn.
        var dup = new TxnRequest();
        dup.Success.Add(new RequestOp { RequestPut = new PutRequest { Key = B("t/x"), Value = B("1") } });
        dup.Success.Add(new RequestOp { RequestPut = new PutRequest { Key = B("t/x"), Value = B("2") } });
        await fixture.SameAsync("duplicate put", c => c.TransactionAsync(dup));
        var dupDelete = new TxnRequest();
        dupDelete.Success.Add(new RequestOp { RequestPut = new PutRequest { Key = B("t/x"), Value = B("1") } });
        dupDelete.Success.Add(new RequestOp { RequestDeleteRange = new DeleteRangeRequest { Key = B("t/"), RangeEnd = B("t0") } });
        await fixture.SameAsync("put in a deleted range", c => c.TransactionAsync(dupDelete));
        var dupNested = new TxnRequest();
        var inner = new TxnRequest();
        inner.Success.Add(new RequestOp { RequestPut = new PutRequest { Key = B("t/x"), Value = B("2") } });
        dupNested.Success.Add(new RequestOp { RequestPut = new PutRequest { Key = B("t/x"), Value = B("1") } });
        dupNested.Success.Add(new RequestOp { RequestTxn = inner });
        await fixture.SameAsync("duplicate put in a nested txn", c => c.TransactionAsync(dupNested));
        var branches = new TxnRequest();
        branches.Success.Add(new RequestOp { RequestPut = new PutRequest { Key = B("t/x"), Value = B("1") } });
        branches.Failure.Add(new RequestOp { RequestPut = new PutRequest { Key = B("t/x"), Value = B("2") } });
        await fixture.SameAsync("same key in both branches", c => c.TransactionAsync(branches));
        var emptyCompare = new TxnRequest();
        emptyCompare.Compare.Add(new Compare { Key = ByteString.Empty, Target = Compare.Types.CompareTarget.Version, Result = Compare.Types.CompareResult.Equal });
        await fixture.SameAsync("empty compare key", c => c.TransactionAsync(emptyCompare));
        var badLease = new TxnRequest();
        badLease.Success.Add(new RequestOp { RequestPut = new PutRequest { Key = B("t/l"), Value = B("1"), Lease = 99999 } });
        await fixture.SameAsync("missing lease in txn", c => c.TransactionAsync(badLease));
        var emptyPut = new TxnRequest();
        emptyPut.Success.Add(new RequestOp { RequestPut = new PutRequest { Key = ByteString.Empty, Value = B("1") } });
        await fixture.SameAsync("empty put key in txn", c => c.TransactionAsync(emptyPut));
        var emptyOp = new TxnRequest();
        emptyOp.Success.Add(new RequestOp());
        await fixture.SameAsync("op with no request", c => c.TransactionAsync(emptyOp));
        await fixture.SameAsync("empty txn", c => c.TransactionAsync(new TxnRequest()));

        // A range with a revision inside a txn reads the history there (etcd's checkRequests first: a future revision fails
        // the whole txn, nothing applied); each op's header shows the revision as of that op (a delete of nothing before
        // the txn's first write: the revision before the txn).
        TxnRequest AtRevision(long revision, bool write)
        {
            var t = new TxnRequest();
            t.Success.Add(new RequestOp { RequestDeleteRange = new DeleteRangeRequest { Key = B("t/none") } });
            if (write)
            {
                t.Success.Add(new RequestOp { RequestPut = new PutRequest { Key = B("t/h"), Value = B($"h{revision}") } });
            }

            t.Success.Add(new RequestOp { RequestRange = new RangeRequest { Key = B("t/"), RangeEnd = B("t0"), Revision = revision } });
            t.Success.Add(new RequestOp { RequestRange = new RangeRequest { Key = B("t/a"), Revision = revision, KeysOnly = true } });
            t.Success.Add(new RequestOp { RequestDeleteRange = new DeleteRangeRequest { Key = B("t/nothing") } });
            return t;
        }

        async Task<long> HeadAsync() => (await fixture.Etcd.GetAsync("t/a")).Header.Revision;
        foreach (var write in new[] { false, true })
        {
            var head = await HeadAsync();
            await fixture.SameAsync($"txn (write {write}) range at revision 1", c => c.TransactionAsync(AtRevision(1, write)));
            await fixture.SameAsync($"txn (write {write}) range at a past revision", c => c.TransactionAsync(AtRevision(head - 4, write)));
            head = await HeadAsync();
            await fixture.SameAsync($"txn (write {write}) range at the current revision", c => c.TransactionAsync(AtRevision(head, write)));
            head = await HeadAsync();
            await fixture.SameAsync($"txn (write {write}) range at the next revision", c => c.TransactionAsync(AtRevision(head + 1, write)));
        }

        // A delete whose range_end is at or before its key deletes nothing (and collides with no put); a compare whose
        // range_end is below its key compares over no key.
        foreach (var target in new[] { Compare.Types.CompareTarget.Version, Compare.Types.CompareTarget.Value, Compare.Types.CompareTarget.Mod })
        {
            var backwards = new TxnRequest();
            backwards.Compare.Add(new Compare { Key = B("t/b"), RangeEnd = B("t/a"), Target = target, Result = Compare.Types.CompareResult.Equal });
            foreach (var branch in new[] { backwards.Success, backwards.Failure })
            {
                branch.Add(new RequestOp { RequestDeleteRange = new DeleteRangeRequest { Key = B("t/b"), RangeEnd = B("t/a"), PrevKv = true } });
                branch.Add(new RequestOp { RequestDeleteRange = new DeleteRangeRequest { Key = B("t/c"), RangeEnd = B("t/c") } });
                branch.Add(new RequestOp { RequestPut = new PutRequest { Key = B("t/b"), Value = B($"{target}") } });
            }

            await fixture.SameAsync($"backwards ranges in a txn ({target} compare)", c => c.TransactionAsync(backwards));
        }

        await fixture.SameAsync("cleanup", c => c.DeleteRangeAsync("t/"));
    }

    [Fact]
    public async Task CompactAnswersAsEtcd()
    {
        foreach (var v in new[] { "1", "2", "3", "4" })
        {
            await fixture.SameAsync($"put {v}", c => c.PutAsync("c/k", v));
        }

        var head = (await fixture.Etcd.GetAsync("c/k")).Header.Revision;
        await fixture.SameAsync("compact a future revision", c => c.CompactAsync(new CompactionRequest { Revision = head + 10 }));
        await fixture.SameAsync("compact physical", c => c.CompactAsync(new CompactionRequest { Revision = head - 2, Physical = true }));
        await fixture.SameAsync("compact again", c => c.CompactAsync(new CompactionRequest { Revision = head - 2 }));
        await fixture.SameAsync("compact older", c => c.CompactAsync(new CompactionRequest { Revision = head - 3, Physical = true }));
        await fixture.SameAsync("compact 0", c => c.CompactAsync(new CompactionRequest { Revision = 0 }));
        await fixture.SameAsync("compact -1", c => c.CompactAsync(new CompactionRequest { Revision = -1 }));
        await fixture.SameAsync("range of the compacted revision", c => c.GetAsync(new RangeRequest { Key = B("c/k"), Revision = head - 3 }));
        await fixture.SameAsync("range at the compaction", c => c.GetAsync(new RangeRequest { Key = B("c/k"), Revision = head - 2 }));
        await fixture.SameAsync("Compact (sync) head", c => Task.FromResult(c.Compact(new CompactionRequest { Revision = head })));
        await fixture.SameAsync("hash kv of a compacted revision", c => c.HashKVAsync(new HashKVRequest { Revision = head - 1 }), NoHash);
        await fixture.SameAsync("hash kv at head", c => c.HashKVAsync(new HashKVRequest { Revision = head }), NoHash);
        await fixture.SameAsync("cleanup", c => c.DeleteRangeAsync("c/"));
    }

    /// <summary>HashKV's hash is RaftKv's own CRC of its key space (docs/api.md: compare members with each other, not with
    /// etcd): the header and compact revision are compared.</summary>
    private static HashKVResponse NoHash(HashKVResponse r)
    {
        r.Hash = 0;
        return r;
    }
}
