using System.Collections.Concurrent;
using dotnet_etcd;
using Etcdserverpb;
using Google.Protobuf;
using Grpc.Core;
using Mvccpb;

namespace RaftKv.EndToEnd.Tests.Etcd.Clients;

/// <summary>The third-party .NET client dotnet-etcd (NuGet, generated from etcd's own protos) against a real
/// 3-node RaftKv: KV with prefixes, delete, txn, watch (and its resume from the last revision seen), leases
/// (keep-alive holds an attached key past its TTL; without it the key expires), member list and status.</summary>
[Collection(EtcdCollection.Name)]
public sealed class DotnetEtcdTests(EtcdClusterFixture fixture)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    // onOneNode: every call to the same member. dotnet-etcd spreads calls over its endpoints, and a watch
    // (like etcd's, no read barrier) is served from what its member has applied so far.
    private EtcdClient Client(bool onOneNode = false) => new(
        string.Join(',', fixture.Cluster.Nodes.Where(n => n.IsRunning).Take(onOneNode ? 1 : int.MaxValue).Select(n => "http://" + n.Grpc)),
        configureChannelOptions: o => o.Credentials = ChannelCredentials.Insecure);

    // withRevision: false for the Cluster service, whose header etcd leaves without a revision.
    private static void AssertHeader(ResponseHeader header, bool withRevision = true)
    {
        Assert.NotEqual(0UL, header.ClusterId);
        Assert.NotEqual(0UL, header.MemberId);
        Assert.NotEqual(0UL, header.RaftTerm);
        Assert.True(!withRevision || header.Revision > 0, "header revision");
    }

    [Fact]
    public async Task PutGetPrefixDeleteWithEtcdRevisions()
    {
        using var client = Client();
        var p1 = await client.PutAsync("dn/kv/a", "1");
        AssertHeader(p1.Header);
        var p2 = await client.PutAsync("dn/kv/b", "2");
        Assert.Equal(p1.Header.Revision + 1, p2.Header.Revision);
        var p3 = await client.PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8("dn/kv/a"), Value = ByteString.CopyFromUtf8("3"), PrevKv = true });
        Assert.Equal("1", p3.PrevKv.Value.ToStringUtf8());
        await client.PutAsync("dn/other", "x");

        var a = await client.GetAsync("dn/kv/a");
        AssertHeader(a.Header);
        var kv = Assert.Single(a.Kvs);
        Assert.Equal("3", kv.Value.ToStringUtf8());
        Assert.Equal(p1.Header.Revision, kv.CreateRevision);
        Assert.Equal(p3.Header.Revision, kv.ModRevision);
        Assert.Equal(2, kv.Version);
        Assert.Equal("3", await client.GetValAsync("dn/kv/a"));
        Assert.Equal(string.Empty, await client.GetValAsync("dn/kv/missing"));

        var range = await client.GetRangeAsync("dn/kv/");
        Assert.Equal(["dn/kv/a", "dn/kv/b"], range.Kvs.Select(k => k.Key.ToStringUtf8()));
        Assert.Equal(2, range.Count);
        Assert.False(range.More);
        Assert.Equal(new Dictionary<string, string> { ["dn/kv/a"] = "3", ["dn/kv/b"] = "2" }, await client.GetRangeValAsync("dn/kv/"));

        // The history: the range at the first put's revision.
        var old = await client.GetAsync(new RangeRequest { Key = ByteString.CopyFromUtf8("dn/kv/a"), Revision = p1.Header.Revision });
        Assert.Equal("1", Assert.Single(old.Kvs).Value.ToStringUtf8());

        var limited = await client.GetAsync(new RangeRequest { Key = ByteString.CopyFromUtf8("dn/kv/"), RangeEnd = EtcdClient.GetRangeEnd(ByteString.CopyFromUtf8("dn/kv/")), Limit = 1, SortOrder = RangeRequest.Types.SortOrder.Descend });
        Assert.Equal("dn/kv/b", Assert.Single(limited.Kvs).Key.ToStringUtf8());
        Assert.True(limited.More);
        Assert.Equal(2, limited.Count);

        var del = await client.DeleteAsync(new DeleteRangeRequest { Key = ByteString.CopyFromUtf8("dn/kv/b"), PrevKv = true });
        Assert.Equal(1, del.Deleted);
        Assert.Equal("2", Assert.Single(del.PrevKvs).Value.ToStringUtf8());
        var none = await client.DeleteAsync("dn/kv/b");
        Assert.Equal(0, none.Deleted);
        Assert.Equal(del.Header.Revision, none.Header.Revision); // deleting nothing does not bump the revision

        var delRange = await client.DeleteRangeAsync("dn/");
        Assert.Equal(2, delRange.Deleted);
        Assert.Empty((await client.GetRangeAsync("dn/")).Kvs);
    }

    [Fact]
    public async Task TxnComparesAndBranches()
    {
        using var client = Client();
        var key = ByteString.CopyFromUtf8("dn/txn/k");
        var create = new TxnRequest();
        create.Compare.Add(new Compare { Key = key, Target = Compare.Types.CompareTarget.Version, Result = Compare.Types.CompareResult.Equal, Version = 0 });
        create.Success.Add(new RequestOp { RequestPut = new PutRequest { Key = key, Value = ByteString.CopyFromUtf8("v1") } });
        create.Failure.Add(new RequestOp { RequestRange = new RangeRequest { Key = key } });

        var first = await client.TransactionAsync(create);
        AssertHeader(first.Header);
        Assert.True(first.Succeeded);
        Assert.NotNull(Assert.Single(first.Responses).ResponsePut);

        var second = await client.TransactionAsync(create);
        Assert.False(second.Succeeded);
        Assert.Equal(first.Header.Revision, second.Header.Revision); // a read-only branch does not bump the revision
        var read = Assert.Single(second.Responses).ResponseRange;
        Assert.Equal("v1", Assert.Single(read.Kvs).Value.ToStringUtf8());

        var cas = new TxnRequest();
        cas.Compare.Add(new Compare { Key = key, Target = Compare.Types.CompareTarget.Value, Result = Compare.Types.CompareResult.Equal, Value = ByteString.CopyFromUtf8("v1") });
        cas.Compare.Add(new Compare { Key = key, Target = Compare.Types.CompareTarget.Mod, Result = Compare.Types.CompareResult.Equal, ModRevision = first.Header.Revision });
        cas.Success.Add(new RequestOp { RequestPut = new PutRequest { Key = key, Value = ByteString.CopyFromUtf8("v2"), PrevKv = true } });
        cas.Success.Add(new RequestOp { RequestDeleteRange = new DeleteRangeRequest { Key = ByteString.CopyFromUtf8("dn/txn/none") } });
        var third = await client.TransactionAsync(cas);
        Assert.True(third.Succeeded);
        Assert.Equal(first.Header.Revision + 1, third.Header.Revision);
        Assert.Equal("v1", third.Responses[0].ResponsePut.PrevKv.Value.ToStringUtf8());
        Assert.Equal(0, third.Responses[1].ResponseDeleteRange.Deleted);

        var tooMany = new TxnRequest();
        for (var i = 0; i < 129; i++)
        {
            tooMany.Success.Add(new RequestOp { RequestPut = new PutRequest { Key = ByteString.CopyFromUtf8($"dn/txn/m{i}") } });
        }

        var error = await Assert.ThrowsAsync<RpcException>(() => client.TransactionAsync(tooMany));
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Equal("etcdserver: too many operations in txn request", error.Status.Detail);
        await client.DeleteRangeAsync("dn/txn/");
    }

    [Fact]
    public async Task WatchDeliversEveryEventAndResumesFromTheLastRevisionSeen()
    {
        using var client = Client();
        var prefix = ByteString.CopyFromUtf8("dn/w/");
        var seen = new ConcurrentQueue<(long Revision, Event.Types.EventType Type, string Key, string Value)>();
        var created = new ConcurrentQueue<long>();
        void OnResponse(WatchResponse r)
        {
            if (r.Created)
            {
                created.Enqueue(r.WatchId);
            }

            foreach (var e in r.Events)
            {
                seen.Enqueue((e.Kv.ModRevision, e.Type, e.Kv.Key.ToStringUtf8(), e.Kv.Value.ToStringUtf8()));
            }
        }

        var start = (await client.PutAsync("dn/w/0", "v0")).Header.Revision;
        using var cts = new CancellationTokenSource();
        var watchId = await client.WatchAsync(
            new WatchRequest { CreateRequest = new WatchCreateRequest { Key = prefix, RangeEnd = EtcdClient.GetRangeEnd(prefix), StartRevision = start } },
            OnResponse,
            cancellationToken: cts.Token);
        await client.PutAsync("dn/w/1", "v1");
        await client.DeleteAsync("dn/w/0");
        await Eventually.TrueAsync(() => seen.Count >= 3, Deadline, "the watcher saw the past put, a live put and a delete");
        Assert.Equal(
            [(start, Event.Types.EventType.Put, "dn/w/0", "v0"), (start + 1, Event.Types.EventType.Put, "dn/w/1", "v1"), (start + 2, Event.Types.EventType.Delete, "dn/w/0", string.Empty)],
            seen.ToArray());

        // The watcher goes away; writes continue; a new watch from the last revision seen + 1 gets exactly the gap.
        client.CancelWatch(watchId);
        await cts.CancelAsync();
        var last = seen.Last().Revision;
        var missed = new List<long>();
        for (var i = 2; i <= 4; i++)
        {
            missed.Add((await client.PutAsync($"dn/w/{i}", $"v{i}")).Header.Revision);
        }

        seen.Clear();
        using var cts2 = new CancellationTokenSource();
        await client.WatchAsync(
            new WatchRequest { CreateRequest = new WatchCreateRequest { Key = prefix, RangeEnd = EtcdClient.GetRangeEnd(prefix), StartRevision = last + 1, PrevKv = true } },
            OnResponse,
            cancellationToken: cts2.Token);
        var live = (await client.PutAsync("dn/w/2", "v2b")).Header.Revision;
        await Eventually.TrueAsync(() => seen.Count >= 4, Deadline, "the resumed watcher saw the gap and a live put");
        Assert.Equal(missed.Append(live), seen.Select(e => e.Revision));
        Assert.Equal(["v2", "v3", "v4", "v2b"], seen.Select(e => e.Value));
        await cts2.CancelAsync();
        await client.DeleteRangeAsync("dn/w/");
    }

    [Fact]
    public async Task AWatchFromACompactedRevisionIsCanceledWithTheCompactRevision()
    {
        // On one member: the linearizable get below proves that member applied the compaction, so its watch
        // from the compacted revision must be canceled. Another member may not have applied it yet.
        using var client = Client(onOneNode: true);
        var first = (await client.PutAsync("dn/c/k", "1")).Header.Revision;
        var second = (await client.PutAsync("dn/c/k", "2")).Header.Revision;
        await client.CompactAsync(new CompactionRequest { Revision = second });
        var old = await Assert.ThrowsAsync<RpcException>(() => client.GetAsync(new RangeRequest { Key = ByteString.CopyFromUtf8("dn/c/k"), Revision = first }));
        Assert.Equal(StatusCode.OutOfRange, old.StatusCode);
        Assert.Equal("etcdserver: mvcc: required revision has been compacted", old.Status.Detail);

        var responses = new ConcurrentQueue<WatchResponse>();
        using var cts = new CancellationTokenSource();
        await client.WatchAsync(
            new WatchRequest { CreateRequest = new WatchCreateRequest { Key = ByteString.CopyFromUtf8("dn/c/k"), StartRevision = first } },
            (Action<WatchResponse>)responses.Enqueue,
            cancellationToken: cts.Token);
        await Eventually.TrueAsync(() => responses.Any(r => r.Canceled), Deadline, "the watch from a compacted revision was canceled");
        var canceled = responses.First(r => r.Canceled);
        Assert.True(canceled.CompactRevision >= second, "compact_revision is set");
        Assert.Empty(responses.SelectMany(r => r.Events));
        await cts.CancelAsync();
    }

    [Fact]
    public async Task KeepAliveHoldsALeasedKeyAndItsExpiryDeletesIt()
    {
        using var client = Client();
        var grant = await client.LeaseGrantAsync(new LeaseGrantRequest { TTL = 3 });
        AssertHeader(grant.Header);
        Assert.Equal(3, grant.TTL);
        await client.PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8("dn/lease/k"), Value = ByteString.CopyFromUtf8("v"), Lease = grant.ID });
        Assert.Equal(grant.ID, Assert.Single((await client.GetAsync("dn/lease/k")).Kvs).Lease);

        using (var keep = new CancellationTokenSource())
        {
            var keepAlive = client.LeaseKeepAlive(grant.ID, keep.Token);
            var until = DateTime.UtcNow + TimeSpan.FromSeconds(grant.TTL * 3);
            await Eventually.TrueAsync(() => DateTime.UtcNow > until || keepAlive.IsCompleted, Deadline, "three TTLs passed under keep-alive");
            Assert.False(keepAlive.IsFaulted, keepAlive.Exception?.ToString());
            Assert.Single((await client.GetAsync("dn/lease/k")).Kvs);
            var ttl = await client.LeaseTimeToLiveAsync(new LeaseTimeToLiveRequest { ID = grant.ID, Keys = true });
            Assert.True(ttl.TTL > 0, "the kept-alive lease is live");
            Assert.Equal("dn/lease/k", Assert.Single(ttl.Keys).ToStringUtf8());
            Assert.Contains(grant.ID, (await client.LeaseLeasesAsync()).Leases.Select(l => l.ID));
            await keep.CancelAsync();
            await Task.WhenAny(keepAlive);
        }

        await Eventually.TrueAsync(async () => (await client.GetAsync("dn/lease/k")).Kvs.Count == 0, Deadline, "the expired lease deleted its key");
        Assert.Equal(-1, (await client.LeaseTimeToLiveAsync(new LeaseTimeToLiveRequest { ID = grant.ID })).TTL);
        var revoke = await Assert.ThrowsAsync<RpcException>(() => client.LeaseRevokeAsync(new LeaseRevokeRequest { ID = grant.ID }));
        Assert.Equal(StatusCode.NotFound, revoke.StatusCode);
        Assert.Equal("etcdserver: requested lease not found", revoke.Status.Detail);
    }

    [Fact]
    public async Task MemberListAndStatusDescribeTheCluster()
    {
        using var client = Client();
        var members = await client.MemberListAsync(new MemberListRequest());
        AssertHeader(members.Header, withRevision: false);
        Assert.Equal(3, members.Members.Count);
        Assert.Equal(3, members.Members.Select(m => m.ID).Distinct().Count());
        Assert.All(members.Members, m => Assert.NotEmpty(m.ClientURLs));
        foreach (var node in fixture.Cluster.Nodes)
        {
            Assert.Contains(members.Members, m => m.ClientURLs.Any(u => u.EndsWith(":" + node.GrpcPort.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal)));
        }

        var status = await client.StatusAsync(new StatusRequest());
        AssertHeader(status.Header);
        Assert.Contains(members.Members, m => m.ID == status.Leader);
        Assert.Contains(members.Members, m => m.ID == status.Header.MemberId);
        Assert.StartsWith("3.", status.Version, StringComparison.Ordinal);
        Assert.True(status.RaftIndex > 0, "raft index");
        Assert.Equal(status.Header.RaftTerm, status.RaftTerm);
    }
}
