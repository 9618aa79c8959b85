using System.Text;
using Google.Protobuf;
using RaftKv.Replication.Api;
using RaftKv.Server.Etcd;
using RaftKv.Server.Etcd.Concurrency;
using Mvccpb = RaftKv.Protocol.Etcd.Mvccpb;
using V3 = RaftKv.Protocol.Etcd;

namespace RaftKv.Server.Tests;

/// <summary>
/// The writes a follower sends to the leader for a Lock or Campaign (<see cref="ConcurrencyUpstream"/>) travel as etcd's
/// own <c>KV/Txn</c>: the node's transaction must say the same thing on etcd's wire (the leader reads it back with the
/// front door's <c>ToApi</c>), and etcd's answer must give back what <see cref="EtcdMutex"/> reads from it.
/// </summary>
public sealed class EtcdUpstreamMappingTests
{
    private static byte[] B(string s) => Encoding.UTF8.GetBytes(s);

    /// <summary>The Lock's create txn (compare create = 0, put with lease, owner range sorted by create revision), the
    /// campaign's proclaim and a nested txn: node → etcd → node → etcd gives the same etcd request.</summary>
    [Fact]
    public void TheConcurrencyTxnsSayTheSameOnEtcdsWire()
    {
        var prefix = ConcurrencyKv.PrefixOf(B("job"));
        var key = ConcurrencyKv.KeyOf(prefix, 0x1f);
        var owner = KvOp.RangeRead(ConcurrencyKv.FirstCreate(prefix));
        var txns = new[]
        {
            new KvTxn([ConcurrencyKv.CreatedAt(key, 0)], [new KvOp(KvOpKind.Put, key, [], Lease: 0x1f), owner], [KvOp.RangeRead(new RangeRequest(key)), owner]),
            new KvTxn([ConcurrencyKv.CreatedAt(key, 42)], [new KvOp(KvOpKind.Put, key, B("v"), Lease: 0x1f)], []),
            new KvTxn([new KvCompare(key, CompareTarget.Value, CompareOp.NotEqual, Value: B("x")), new KvCompare(key, CompareTarget.Lease, CompareOp.Greater, Lease: 3)],
                [KvOp.Txn(KvTxn.Single(KvOp.Delete(key, prevKv: true))), KvOp.DeleteRange(prefix, ConcurrencyKv.PrefixEnd(prefix))], []),
        };
        foreach (var txn in txns)
        {
            var wire = EtcdMapping.ToProto(txn);
            Assert.Equal(wire, EtcdMapping.ToProto(EtcdMapping.ToApi(wire)));
        }

        var lockTxn = EtcdMapping.ToProto(txns[0]);
        Assert.Equal((V3.Compare.Types.CompareTarget.Create, 0L), (lockTxn.Compare[0].Target, lockTxn.Compare[0].CreateRevision));
        Assert.Equal((0x1fL, "job/1f"), (lockTxn.Success[0].RequestPut.Lease, lockTxn.Success[0].RequestPut.Key.ToStringUtf8()));
        Assert.Equal((1L, V3.RangeRequest.Types.SortTarget.Create, V3.RangeRequest.Types.SortOrder.Ascend, "job0"),
            (lockTxn.Success[1].RequestRange.Limit, lockTxn.Success[1].RequestRange.SortTarget, lockTxn.Success[1].RequestRange.SortOrder, lockTxn.Success[1].RequestRange.RangeEnd.ToStringUtf8()));
        Assert.Equal(42, EtcdMapping.ToProto(txns[1]).Compare[0].CreateRevision);
        var nested = EtcdMapping.ToProto(txns[2]);
        Assert.Equal((V3.Compare.Types.CompareResult.NotEqual, "x", 3L), (nested.Compare[0].Result, nested.Compare[0].Value.ToStringUtf8(), nested.Compare[1].Lease));
        Assert.True(nested.Success[0].RequestTxn.Success[0].RequestDeleteRange.PrevKv);
    }

    /// <summary>A native-only form (a TTL put) has no etcd form: refused, never sent half-mapped.</summary>
    [Fact]
    public void ANativeOnlyOpIsRefused()
        => Assert.Throws<NotSupportedException>(() => EtcdMapping.ToProto(KvTxn.Single(KvOp.Put(B("k"), B("v"), ttlMs: 1000))));

    /// <summary>etcd's answer to the Lock's txn when the key existed (failure branch): what the mutex reads from it.</summary>
    [Fact]
    public void EtcdsAnswerGivesBackTheKeysAndTheRevision()
    {
        static Mvccpb.KeyValue Kv(string key, long create) => new() { Key = ByteString.CopyFromUtf8(key), CreateRevision = create, ModRevision = create, Version = 1, Lease = 0x1f };
        var response = new V3.TxnResponse { Header = new V3.ResponseHeader { Revision = 9 }, Succeeded = false };
        response.Responses.Add(new V3.ResponseOp { ResponseRange = new V3.RangeResponse { Header = new V3.ResponseHeader { Revision = 9 }, Count = 1, Kvs = { Kv("job/1f", 7) } } });
        response.Responses.Add(new V3.ResponseOp { ResponseRange = new V3.RangeResponse { Header = new V3.ResponseHeader { Revision = 9 }, Count = 2, More = true, Kvs = { Kv("job/a", 5) } } });
        response.Responses.Add(new V3.ResponseOp { ResponseDeleteRange = new V3.DeleteRangeResponse { Deleted = 2 } });

        var r = EtcdMapping.ToApi(response);
        Assert.Equal((false, 9L), (r.Succeeded, r.Revision));
        Assert.Equal(7, r.Results[0].Range!.Kvs[0].CreateRevision);
        Assert.Equal(("job/a", 5L, 0x1fL), (Encoding.UTF8.GetString(r.Results[1].Range!.Kvs[0].Key.Span), r.Results[1].Range!.Kvs[0].CreateRevision, r.Results[1].Range!.Kvs[0].Lease));
        Assert.Equal((2L, true), (r.Results[1].Range!.Count, r.Results[1].Range!.More));
        Assert.Equal(2, r.Results[2].Deleted);
    }
}
