using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using RaftKv.Protocol.Etcd;

namespace RaftKv.EndToEnd.Tests.Etcd;

/// <summary>Bad input to the etcd API answers etcd's gRPC status and message text, and the node stays up.
/// (etcdctl prints only the text, so these use gRPC stubs of proto/etcd directly.)</summary>
[Collection(EtcdCollection.Name)]
public sealed class EtcdGrpcBadInputTests(EtcdClusterFixture fixture) : IDisposable
{
    private readonly GrpcChannel _channel = GrpcChannel.ForAddress("http://" + fixture.Node(2).Grpc);

    private KV.KVClient Kv => new(_channel);

    private static ByteString B(string s) => ByteString.CopyFromUtf8(s);

    private static async Task Refused(Func<Task> call, StatusCode code, string message)
    {
        var e = await Assert.ThrowsAsync<RpcException>(call);
        Assert.Equal(code, e.StatusCode);
        Assert.Equal(message, e.Status.Detail);
    }

    [Fact]
    public async Task EmptyKeysAreNotProvided()
    {
        const string Msg = "etcdserver: key is not provided";
        await Refused(async () => await Kv.RangeAsync(new RangeRequest()), StatusCode.InvalidArgument, Msg);
        await Refused(async () => await Kv.PutAsync(new PutRequest { Value = B("v") }), StatusCode.InvalidArgument, Msg);
        await Refused(async () => await Kv.DeleteRangeAsync(new DeleteRangeRequest()), StatusCode.InvalidArgument, Msg);
        var txn = new TxnRequest();
        txn.Success.Add(new RequestOp { RequestPut = new PutRequest { Value = B("v") } });
        await Refused(async () => await Kv.TxnAsync(txn), StatusCode.InvalidArgument, Msg);
        var emptyCompare = new TxnRequest();
        emptyCompare.Compare.Add(new Compare { Target = Compare.Types.CompareTarget.Version, Result = Compare.Types.CompareResult.Equal });
        emptyCompare.Success.Add(new RequestOp { RequestPut = new PutRequest { Key = B("k"), Value = B("v") } });
        await Refused(async () => await Kv.TxnAsync(emptyCompare), StatusCode.InvalidArgument, Msg);
        var nested = new TxnRequest();
        nested.Success.Add(new RequestOp { RequestTxn = emptyCompare });
        await Refused(async () => await Kv.TxnAsync(nested), StatusCode.InvalidArgument, Msg);
        var emptyOp = new TxnRequest();
        emptyOp.Success.Add(new RequestOp());
        await Refused(async () => await Kv.TxnAsync(emptyOp), StatusCode.InvalidArgument, "etcdserver: key not found"); // etcd's checkRequestOp

        var etcdctl = await Etcdctl.RunAsync(fixture.Endpoints, "get", "");
        Assert.Contains(Msg, etcdctl.Err);
        await StillUp();
    }

    [Fact]
    public async Task RangesAndLimitsAsEtcdTreatsThem()
    {
        await Kv.PutAsync(new PutRequest { Key = B("bad/a"), Value = B("1") });
        await Kv.PutAsync(new PutRequest { Key = B("bad/b"), Value = B("2") });

        // range_end before the key: an empty answer, as etcd gives (not an error).
        var backwards = await Kv.RangeAsync(new RangeRequest { Key = B("bad/b"), RangeEnd = B("bad/a") });
        Assert.Empty(backwards.Kvs);
        Assert.Equal(0, backwards.Count);
        var deleteBackwards = await Kv.DeleteRangeAsync(new DeleteRangeRequest { Key = B("bad/b"), RangeEnd = B("bad/a") });
        Assert.Equal(0, deleteBackwards.Deleted);

        // Negative and huge limits mean "no limit".
        foreach (var limit in new[] { -1L, long.MaxValue })
        {
            var r = await Kv.RangeAsync(new RangeRequest { Key = B("bad/"), RangeEnd = B("bad0"), Limit = limit });
            Assert.Equal(2, r.Kvs.Count);
            Assert.False(r.More);
        }

        // Negative min/max revision filters are filters (etcd tests != 0): a negative minimum keeps every key, a
        // negative maximum none; the count is taken before filtering. Inside a txn too.
        var noneKept = await Kv.RangeAsync(new RangeRequest { Key = B("bad/"), RangeEnd = B("bad0"), MaxModRevision = -1 });
        Assert.Empty(noneKept.Kvs);
        Assert.Equal(2, noneKept.Count);
        Assert.Equal(2, (await Kv.RangeAsync(new RangeRequest { Key = B("bad/"), RangeEnd = B("bad0"), MinCreateRevision = -5, MinModRevision = -1 })).Kvs.Count);
        var txn = new TxnRequest();
        txn.Success.Add(new RequestOp { RequestRange = new RangeRequest { Key = B("bad/"), RangeEnd = B("bad0"), MaxCreateRevision = -3 } });
        var inTxn = (await Kv.TxnAsync(txn)).Responses[0].ResponseRange;
        Assert.Empty(inTxn.Kvs);
        Assert.Equal(2, inTxn.Count);

        await Refused(async () => await Kv.RangeAsync(new RangeRequest { Key = B("bad/a"), SortOrder = (RangeRequest.Types.SortOrder)7 }), StatusCode.InvalidArgument, "etcdserver: invalid sort option");
        await StillUp();
    }

    [Fact]
    public async Task RevisionsOutsideTheHistoryAreOutOfRange()
    {
        var put = await Kv.PutAsync(new PutRequest { Key = B("rev/k"), Value = B("1") });
        var current = put.Header.Revision;
        await Refused(async () => await Kv.RangeAsync(new RangeRequest { Key = B("rev/k"), Revision = current + 1000 }), StatusCode.OutOfRange, "etcdserver: mvcc: required revision is a future revision");
        await Kv.PutAsync(new PutRequest { Key = B("rev/k"), Value = B("2") });
        var compactTo = (await Kv.PutAsync(new PutRequest { Key = B("rev/k"), Value = B("3") })).Header.Revision;
        await Kv.CompactAsync(new CompactionRequest { Revision = compactTo });
        await Refused(async () => await Kv.RangeAsync(new RangeRequest { Key = B("rev/k"), Revision = current }), StatusCode.OutOfRange, "etcdserver: mvcc: required revision has been compacted");
        await Refused(async () => await Kv.CompactAsync(new CompactionRequest { Revision = compactTo }), StatusCode.OutOfRange, "etcdserver: mvcc: required revision has been compacted");
        await StillUp();
    }

    /// <summary>etcd 3.4 takes a negative watch start revision as one below its compact revision: created, then
    /// canceled with the compact revision (etcdctl: "required revision has been compacted"); it is not "from now". Before
    /// any compaction: EtcdWatchNegativeStartTests (Server.Tests).</summary>
    [Fact]
    public async Task NegativeWatchStartRevisionsAreCanceledAsCompacted()
    {
        var compactTo = (await Kv.PutAsync(new PutRequest { Key = B("negw/k"), Value = B("1") })).Header.Revision;
        await Kv.CompactAsync(new CompactionRequest { Revision = compactTo });
        await Kv.RangeAsync(new RangeRequest { Key = B("negw/k") }); // linearizable: node 2 has applied the compaction too
        await using var stream = new WatchStreamRecorder(fixture.Node(2).Grpc);
        stream.StartReading();
        foreach (var (id, start) in new[] { (11L, -1L), (12L, -3L), (13L, long.MinValue) })
        {
            await stream.CreateAsync(new WatchCreateRequest { Key = B("negw/k"), StartRevision = start, WatchId = id });
            await stream.WaitAsync(() => stream.Of(id).Count >= 2, TimeSpan.FromSeconds(30), () => $"watch from {start}: {string.Join(", ", stream.Of(id))}");
            var responses = stream.Of(id);
            Assert.True(responses[0].Created, responses[0].ToString());
            Assert.True(responses[1].Canceled, responses[1].ToString());
            Assert.Equal(compactTo, responses[1].CompactRevision);
            Assert.Empty(responses[1].Events);
        }

        var etcdctl = await Etcdctl.RunAsync(fixture.Endpoints, "watch", "negw/k", "--rev=-2");
        Assert.Contains("watch was canceled (etcdserver: mvcc: required revision has been compacted)", etcdctl.Out + etcdctl.Err, StringComparison.Ordinal);
        await StillUp();
    }

    /// <summary>etcd 3.4's HashKV at a negative revision is no error: it hashes the history below revision + 1,
    /// i.e. nothing, and answers at the current revision.</summary>
    [Fact]
    public async Task HashKvAtANegativeRevisionHashesNothing()
    {
        var written = (await Kv.PutAsync(new PutRequest { Key = B("neghash/k"), Value = B("1") })).Header.Revision;
        await Kv.RangeAsync(new RangeRequest { Key = B("neghash/k") }); // linearizable: node 2 (HashKV answers locally) has applied the put
        var maintenance = new Maintenance.MaintenanceClient(_channel);
        var minusOne = await maintenance.HashKVAsync(new HashKVRequest { Revision = -1 });
        var minusMany = await maintenance.HashKVAsync(new HashKVRequest { Revision = -12345 });
        Assert.Equal(minusOne.Hash, minusMany.Hash);
        Assert.NotEqual(minusOne.Hash, (await maintenance.HashKVAsync(new HashKVRequest())).Hash);
        Assert.True(minusOne.Header.Revision >= written, minusOne.ToString());

        var etcdctl = await Etcdctl.RunAsync(fixture.Node(2).Grpc, "endpoint", "hashkv", "--rev=-1");
        Assert.True(etcdctl.Code == 0, etcdctl.ToString());
        await StillUp();
    }

    [Fact]
    public async Task TxnLimitsAreEtcds()
    {
        var tooMany = new TxnRequest();
        for (var i = 0; i < 129; i++)
        {
            tooMany.Success.Add(new RequestOp { RequestPut = new PutRequest { Key = B($"many/{i}"), Value = B("v") } });
        }

        await Refused(async () => await Kv.TxnAsync(tooMany), StatusCode.InvalidArgument, "etcdserver: too many operations in txn request");

        // A nested txn gets what its parent leaves: 128 minus the parent's largest list (etcd's checkTxnRequest).
        static TxnRequest Nested(int outer, int inner)
        {
            var nested = new TxnRequest();
            nested.Success.Add(Enumerable.Range(0, inner).Select(i => new RequestOp { RequestPut = new PutRequest { Key = B($"nest/in/{i}"), Value = B("v") } }));
            var parent = new TxnRequest();
            parent.Success.Add(Enumerable.Range(0, outer).Select(i => new RequestOp { RequestPut = new PutRequest { Key = B($"nest/out/{i}"), Value = B("v") } }));
            parent.Success.Add(new RequestOp { RequestTxn = nested });
            return parent;
        }

        await Refused(async () => await Kv.TxnAsync(Nested(100, 50)), StatusCode.InvalidArgument, "etcdserver: too many operations in txn request");
        Assert.True((await Kv.TxnAsync(Nested(100, 27))).Succeeded); // 101 ops in the parent's branch leave 27

        var duplicate = new TxnRequest();
        duplicate.Success.Add(new RequestOp { RequestPut = new PutRequest { Key = B("dup/k"), Value = B("1") } });
        duplicate.Success.Add(new RequestOp { RequestPut = new PutRequest { Key = B("dup/k"), Value = B("2") } });
        await Refused(async () => await Kv.TxnAsync(duplicate), StatusCode.InvalidArgument, "etcdserver: duplicate key given in txn request");

        var ops = string.Concat(Enumerable.Range(0, 129).Select(i => $"put many/{i} v\n"));
        var etcdctl = await Etcdctl.RunWithInputAsync(fixture.Endpoints, "\n" + ops + "\n\n", "txn");
        Assert.Contains("etcdserver: too many operations in txn request", etcdctl.Err);
        await StillUp();
    }

    /// <summary>MAX_KEY_BYTES (4 KiB) bounds the keys a put writes; reading, comparing or deleting a longer key
    /// answers as etcd does (there is no such key), inside a txn too.</summary>
    [Fact]
    public async Task KeysOverTheLimitAreRefusedOnlyWhenWritten()
    {
        var longKey = B("long/" + new string('k', 5000));
        await Refused(async () => await Kv.PutAsync(new PutRequest { Key = longKey, Value = B("v") }), StatusCode.InvalidArgument, "etcdserver: request is too large");
        Assert.Equal(0, (await Kv.RangeAsync(new RangeRequest { Key = longKey })).Count);
        Assert.Equal(0, (await Kv.DeleteRangeAsync(new DeleteRangeRequest { Key = longKey })).Deleted);

        var txn = new TxnRequest();
        txn.Compare.Add(new Compare { Key = longKey, Target = Compare.Types.CompareTarget.Version, Result = Compare.Types.CompareResult.Equal, Version = 0 });
        txn.Success.Add(new RequestOp { RequestRange = new RangeRequest { Key = longKey } });
        txn.Success.Add(new RequestOp { RequestDeleteRange = new DeleteRangeRequest { Key = longKey, PrevKv = true } });
        var answer = await Kv.TxnAsync(txn);
        Assert.True(answer.Succeeded);
        Assert.Equal(0, answer.Responses[0].ResponseRange.Count);
        Assert.Equal(0, answer.Responses[1].ResponseDeleteRange.Deleted);

        var etcdctl = await Etcdctl.RunAsync(fixture.Endpoints, "del", longKey.ToStringUtf8());
        Assert.True(etcdctl.Code == 0 && etcdctl.Out.Trim() == "0", etcdctl.ToString());
        await StillUp();
    }

    [Fact]
    public async Task IgnoreValueAndLeaseChecksAreEtcds()
    {
        await Refused(async () => await Kv.PutAsync(new PutRequest { Key = B("ign/k"), Value = B("v"), IgnoreValue = true }), StatusCode.InvalidArgument, "etcdserver: value is provided");
        await Refused(async () => await Kv.PutAsync(new PutRequest { Key = B("ign/k"), Lease = 5, IgnoreLease = true }), StatusCode.InvalidArgument, "etcdserver: lease is provided");
        await Refused(async () => await Kv.PutAsync(new PutRequest { Key = B("ign/missing"), IgnoreValue = true }), StatusCode.InvalidArgument, "etcdserver: key not found");
        await Refused(async () => await Kv.PutAsync(new PutRequest { Key = B("ign/k"), Value = B("v"), Lease = 0x7fff_0000_1234 }), StatusCode.NotFound, "etcdserver: requested lease not found");
        await Refused(async () => await Kv.PutAsync(new PutRequest { Key = B("ign/k"), Value = B("v"), Lease = -5 }), StatusCode.NotFound, "etcdserver: requested lease not found");
        await StillUp();
    }

    [Fact]
    public async Task MalformedProtobufIsRefusedAsEtcdDoes()
    {
        var raw = new Method<byte[], byte[]>(MethodType.Unary, "etcdserverpb.KV", "Range", Marshallers.Create(b => b, b => b), Marshallers.Create(b => b, b => b));
        var e = await Assert.ThrowsAsync<RpcException>(async () => await _channel.CreateCallInvoker().AsyncUnaryCall(raw, null, default, [0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]));
        Assert.Equal(StatusCode.Internal, e.StatusCode); // etcd's grpc-go answer
        Assert.StartsWith("grpc: error unmarshalling request: ", e.Status.Detail, StringComparison.Ordinal);
        await StillUp();
    }

    private async Task StillUp()
    {
        Assert.All(fixture.Cluster.Nodes, n => Assert.True(n.IsRunning, $"node {n.NodeId} exited"));
        var status = await new Maintenance.MaintenanceClient(_channel).StatusAsync(new StatusRequest());
        Assert.Equal("3.5.0", status.Version);
    }

    public void Dispose() => _channel.Dispose();
}
