using Google.Protobuf;
using RaftKv.Replication.Api;
using Mvccpb = RaftKv.Protocol.Etcd.Mvccpb;
using V3 = RaftKv.Protocol.Etcd;

namespace RaftKv.Server.Etcd;

/// <summary>etcd wire messages ↔ the node's MVCC types (<c>RaftKv.Replication.Api</c>). Pure mapping:
/// validation is in <see cref="EtcdValidation"/>.</summary>
internal static partial class EtcdMapping
{
    public static Mvccpb.KeyValue ToProto(in KeyValue kv) => new()
    {
        Key = UnsafeByteOperations.UnsafeWrap(kv.Key),
        Value = UnsafeByteOperations.UnsafeWrap(kv.Value),
        CreateRevision = kv.CreateRevision,
        ModRevision = kv.ModRevision,
        Version = kv.Version,
        Lease = kv.Lease,
    };

    public static Mvccpb.Event ToProto(MvccEvent e)
    {
        var ev = new Mvccpb.Event
        {
            Type = e.Type == MvccEventType.Put ? Mvccpb.Event.Types.EventType.Put : Mvccpb.Event.Types.EventType.Delete,
            Kv = ToProto(e.Kv),
        };
        if (e.PrevKv is { } prev)
        {
            ev.PrevKv = ToProto(prev);
        }

        return ev;
    }

    public static ReadConsistency Consistency(V3.RangeRequest r) => r.Serializable ? ReadConsistency.Serializable : ReadConsistency.Linearizable;

    /// <summary>etcd's range request as the node's. Like etcd: a non-positive limit or revision means none /
    /// current. The order stays None when the request names none: a sort target other than KEY then sorts
    /// ascending, but only the first limit + 1 keys (etcd's v3 Range; <c>RangeProcessor</c>).</summary>
    /// <remarks>etcd filters by min/max revisions when they are not 0 (negative ones too): a negative minimum keeps
    /// every key (sent as 1: every revision is at least 1, and the request still counts as filtered), a negative
    /// maximum keeps none (sent as a minimum of <see cref="long.MaxValue"/>); the count is taken before either.</remarks>
    public static RangeRequest ToApi(V3.RangeRequest r)
    {
        var order = (SortOrder)(byte)r.SortOrder;
        var noneKept = r.MaxModRevision < 0 || r.MaxCreateRevision < 0;

        return new RangeRequest(
            r.Key.ToByteArray(),
            r.RangeEnd.IsEmpty ? null : EtcdValidation.IsEmptyRange(r.Key, r.RangeEnd) ? r.Key.ToByteArray() : r.RangeEnd.ToByteArray(), // etcd: a backwards range is empty ([key, key)), not an error
            Limit: Math.Max(0, r.Limit),
            Revision: Math.Max(0, r.Revision),
            SortOrder: order,
            SortTarget: (SortTarget)(byte)r.SortTarget,
            KeysOnly: r.KeysOnly,
            CountOnly: r.CountOnly,
            MinModRevision: noneKept ? long.MaxValue : r.MinModRevision < 0 ? 1 : r.MinModRevision,
            MaxModRevision: Math.Max(0, r.MaxModRevision),
            MinCreateRevision: r.MinCreateRevision < 0 ? 1 : r.MinCreateRevision,
            MaxCreateRevision: Math.Max(0, r.MaxCreateRevision));
    }

    public static V3.RangeResponse ToProto(RangeResult r, V3.ResponseHeader header)
    {
        var response = new V3.RangeResponse { Header = header, More = r.More, Count = r.Count };
        foreach (var kv in r.Kvs)
        {
            response.Kvs.Add(ToProto(kv));
        }

        return response;
    }

    public static KvOp ToApi(V3.PutRequest p)
        => new(KvOpKind.Put, p.Key.ToByteArray(), Grpc.ByteStrings.Bytes(p.Value), PrevKv: p.PrevKv, Lease: p.Lease, IgnoreValue: p.IgnoreValue, IgnoreLease: p.IgnoreLease);

    /// <summary>A delete: the single key when range_end is empty, else the range with etcd's conventions
    /// ("\0" = to the end; key "\0" and range_end "\0" = every key, which is also the native API's
    /// explicit whole-keyspace intent).</summary>
    public static KvOp ToApi(V3.DeleteRangeRequest d)
    {
        var key = d.Key.ToByteArray();
        if (d.RangeEnd.IsEmpty)
        {
            return new KvOp(KvOpKind.Delete, key, PrevKv: d.PrevKv);
        }

        var end = d.RangeEnd.ToByteArray();
        return new KvOp(KvOpKind.DeleteRange, key, RangeEnd: end, PrevKv: d.PrevKv, AllKeys: key is [0] && end is [0]);
    }

    public static KvTxn ToApi(V3.TxnRequest t)
        => new(t.Compare.Select(ToApi).ToList(), t.Success.Select(ToApi).ToList(), t.Failure.Select(ToApi).ToList());

    public static KvOp ToApi(V3.RequestOp op) => op.RequestCase switch
    {
        V3.RequestOp.RequestOneofCase.RequestRange => KvOp.RangeRead(ToApi(op.RequestRange)),
        V3.RequestOp.RequestOneofCase.RequestPut => ToApi(op.RequestPut),
        V3.RequestOp.RequestOneofCase.RequestDeleteRange => ToApi(op.RequestDeleteRange),
        V3.RequestOp.RequestOneofCase.RequestTxn => KvOp.Txn(ToApi(op.RequestTxn)),
        _ => throw new ArgumentException("txn request op is empty"),
    };

    public static KvCompare ToApi(V3.Compare c)
    {
        var op = c.Result switch
        {
            V3.Compare.Types.CompareResult.Equal => CompareOp.Equal,
            V3.Compare.Types.CompareResult.NotEqual => CompareOp.NotEqual,
            V3.Compare.Types.CompareResult.Greater => CompareOp.Greater,
            V3.Compare.Types.CompareResult.Less => CompareOp.Less,
            _ => throw new ArgumentException($"unknown compare result {c.Result}"),
        };
        var key = c.Key.ToByteArray();
        var end = c.RangeEnd.IsEmpty ? null : c.RangeEnd.ToByteArray();
        return c.Target switch
        {
            V3.Compare.Types.CompareTarget.Version => new KvCompare(key, CompareTarget.Version, op, Version: c.Version, RangeEnd: end),
            V3.Compare.Types.CompareTarget.Create => new KvCompare(key, CompareTarget.Create, op, Revision: c.CreateRevision, RangeEnd: end),
            V3.Compare.Types.CompareTarget.Mod => new KvCompare(key, CompareTarget.Mod, op, Revision: c.ModRevision, RangeEnd: end),
            V3.Compare.Types.CompareTarget.Value => new KvCompare(key, CompareTarget.Value, op, Value: c.Value.ToByteArray(), RangeEnd: end),
            V3.Compare.Types.CompareTarget.Lease => new KvCompare(key, CompareTarget.Lease, op, Lease: c.Lease, RangeEnd: end),
            _ => throw new ArgumentException($"unknown compare target {c.Target}"),
        };
    }

    /// <summary>The answers of the branch a transaction took, one per op, in order. Headers inside are etcd's, the
    /// revision as of the op (etcd's <c>storeTxnWrite</c>): a put's is the txn's revision (<c>Put</c>: the revision
    /// before the txn plus one); a delete's too once it or an earlier op changed something, else the revision before
    /// the txn (<c>DeleteRange</c>); a range's the revision it read at (<c>Range</c>: the revision before the txn, plus
    /// one once an earlier op of the txn changed something), whatever revision it read the history at.</summary>
    public static V3.TxnResponse ToProto(KvTxn txn, TxnResult r, Func<long, V3.ResponseHeader> header)
    {
        var response = new V3.TxnResponse { Header = header(r.Revision) };
        var begin = Changed(txn, r) ? r.Revision - 1 : r.Revision;
        var before = false;
        AddResponses(response, txn, r, r.Revision, begin, ref before);
        return response;
    }

    private static void AddResponses(V3.TxnResponse response, KvTxn txn, TxnResult r, long revision, long begin, ref bool before)
    {
        response.Succeeded = r.Succeeded;
        var branch = r.Succeeded ? txn.Success : txn.Failure;
        for (var i = 0; i < branch.Count && i < r.Results.Count; i++)
        {
            var (op, result) = (branch[i], r.Results[i]);
            var read = before ? begin + 1 : begin;
            response.Responses.Add(op.Kind switch
            {
                KvOpKind.Range or KvOpKind.Get => new V3.ResponseOp
                {
                    ResponseRange = result.Range is { } range ? ToProto(range, Inner(read)) : new V3.RangeResponse { Header = Inner(read) },
                },
                KvOpKind.Put => new V3.ResponseOp { ResponsePut = PutResponse(result, Inner(revision)) },
                KvOpKind.Delete or KvOpKind.DeleteRange => new V3.ResponseOp { ResponseDeleteRange = DeleteResponse(result, Inner(before || result.Deleted > 0 ? begin + 1 : begin)) },
                KvOpKind.Txn when op.Nested is { } nested && result.Nested is { } inner => new V3.ResponseOp { ResponseTxn = NestedResponse(nested, inner, revision, begin, ref before) },
                _ => new V3.ResponseOp { ResponseTxn = new V3.TxnResponse { Header = new V3.ResponseHeader() } },
            });
            before |= Changed(op, result);
        }
    }

    /// <summary>etcd gives a nested txn's own response an empty header (its ops' responses carry the revision).</summary>
    private static V3.TxnResponse NestedResponse(KvTxn nested, TxnResult inner, long revision, long begin, ref bool before)
    {
        var response = new V3.TxnResponse { Header = new V3.ResponseHeader() };
        AddResponses(response, nested, inner, revision, begin, ref before);
        return response;
    }

    /// <summary>Whether the branch a txn took changed the store (a put, a delete that deleted something).</summary>
    private static bool Changed(KvTxn txn, TxnResult r)
    {
        var branch = r.Succeeded ? txn.Success : txn.Failure;
        for (var i = 0; i < branch.Count && i < r.Results.Count; i++)
        {
            if (Changed(branch[i], r.Results[i]))
            {
                return true;
            }
        }

        return false;
    }

    private static bool Changed(KvOp op, OpResult result) => op.Kind switch
    {
        KvOpKind.Put => true,
        KvOpKind.Delete or KvOpKind.DeleteRange => result.Deleted > 0,
        KvOpKind.Txn => op.Nested is { } nested && result.Nested is { } inner && Changed(nested, inner),
        _ => false,
    };

    /// <summary>etcd's header on an op's response inside a txn: the revision only (cluster_id, member_id and raft_term
    /// are on the txn's own header), as its applier fills it.</summary>
    private static V3.ResponseHeader Inner(long revision) => new() { Revision = revision };

    public static V3.PutResponse PutResponse(OpResult? result, V3.ResponseHeader header)
    {
        var response = new V3.PutResponse { Header = header };
        if (result?.PrevKv is { } prev)
        {
            response.PrevKv = ToProto(prev);
        }

        return response;
    }

    public static V3.DeleteRangeResponse DeleteResponse(OpResult? result, V3.ResponseHeader header)
    {
        var response = new V3.DeleteRangeResponse { Header = header, Deleted = result?.Deleted ?? 0 };
        foreach (var kv in result?.PrevKvs ?? [])
        {
            response.PrevKvs.Add(ToProto(kv));
        }

        return response;
    }
}
