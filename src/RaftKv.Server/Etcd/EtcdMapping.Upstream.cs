using Google.Protobuf;
using RaftKv.Replication.Api;
using Mvccpb = RaftKv.Protocol.Etcd.Mvccpb;
using V3 = RaftKv.Protocol.Etcd;

namespace RaftKv.Server.Etcd;

internal static partial class EtcdMapping
{
    /// <summary>
    /// The node's transaction as etcd's <c>TxnRequest</c>, for a write a follower sends to the leader itself
    /// (<see cref="ConcurrencyUpstream"/>): the inverse of <see cref="ToApi(V3.TxnRequest)"/> for what etcd's wire
    /// can say — compares on version, create, mod, value and lease; put, delete, delete-range, range and nested txn
    /// ops. The native API's own forms (a TTL put, a prefix delete, a Get op, an exists compare) have no etcd
    /// equivalent: <see cref="NotSupportedException"/> (never built by the callers).
    /// </summary>
    public static V3.TxnRequest ToProto(KvTxn txn)
    {
        var request = new V3.TxnRequest();
        request.Compare.AddRange(txn.Compares.Select(ToProto));
        request.Success.AddRange(txn.Success.Select(ToProto));
        request.Failure.AddRange(txn.Failure.Select(ToProto));
        return request;
    }

    /// <summary>etcd's answer to a <see cref="ToProto(KvTxn)"/> request as the node's <see cref="TxnResult"/>
    /// (<see cref="TxnResult.Index"/> 0: the leader's Raft index is not on etcd's wire).</summary>
    public static TxnResult ToApi(V3.TxnResponse response) => ToApi(response, response.Header?.Revision ?? 0);

    private static TxnResult ToApi(V3.TxnResponse response, long revision)
        => new(0, response.Succeeded, response.Responses.Select(r => ToApi(r, revision)).ToList(), revision);

    private static OpResult ToApi(V3.ResponseOp op, long revision) => op.ResponseCase switch
    {
        V3.ResponseOp.ResponseOneofCase.ResponseRange => new OpResult(Range: new RangeResult(
            op.ResponseRange.Kvs.Select(ToApi).ToList(), op.ResponseRange.More, op.ResponseRange.Count, op.ResponseRange.Header?.Revision ?? revision)),
        V3.ResponseOp.ResponseOneofCase.ResponsePut => new OpResult(PrevKv: op.ResponsePut.PrevKv is { } prev ? ToApi(prev) : null),
        V3.ResponseOp.ResponseOneofCase.ResponseDeleteRange => new OpResult(
            Deleted: op.ResponseDeleteRange.Deleted, PrevKvs: op.ResponseDeleteRange.PrevKvs.Select(ToApi).ToList()),
        V3.ResponseOp.ResponseOneofCase.ResponseTxn => new OpResult(Nested: ToApi(op.ResponseTxn, revision)),
        _ => new OpResult(),
    };

    private static KeyValue ToApi(Mvccpb.KeyValue kv)
        => new(kv.Key.ToByteArray(), kv.Value.ToByteArray(), kv.CreateRevision, kv.ModRevision, kv.Version, kv.Lease);

    private static V3.Compare ToProto(KvCompare c)
    {
        var compare = new V3.Compare
        {
            Key = ByteString.CopyFrom(c.Key),
            RangeEnd = c.RangeEnd is { } end ? ByteString.CopyFrom(end) : ByteString.Empty,
            Result = c.Op switch
            {
                CompareOp.Equal => V3.Compare.Types.CompareResult.Equal,
                CompareOp.NotEqual => V3.Compare.Types.CompareResult.NotEqual,
                CompareOp.Greater => V3.Compare.Types.CompareResult.Greater,
                _ => V3.Compare.Types.CompareResult.Less,
            },
        };
        switch (c.Target)
        {
            case CompareTarget.Version:
                (compare.Target, compare.Version) = (V3.Compare.Types.CompareTarget.Version, c.Operand);
                break;
            case CompareTarget.Create:
                (compare.Target, compare.CreateRevision) = (V3.Compare.Types.CompareTarget.Create, c.Operand);
                break;
            case CompareTarget.Mod:
                (compare.Target, compare.ModRevision) = (V3.Compare.Types.CompareTarget.Mod, c.Operand);
                break;
            case CompareTarget.Lease:
                (compare.Target, compare.Lease) = (V3.Compare.Types.CompareTarget.Lease, c.Operand);
                break;
            case CompareTarget.Value:
                (compare.Target, compare.Value) = (V3.Compare.Types.CompareTarget.Value, ByteString.CopyFrom(c.Value ?? []));
                break;
            default:
                throw new NotSupportedException($"a {c.Target} compare has no etcd form");
        }

        return compare;
    }

    private static V3.RequestOp ToProto(KvOp op) => op switch
    {
        { Kind: KvOpKind.Put, TtlMs: 0 } => new V3.RequestOp
        {
            RequestPut = new V3.PutRequest
            {
                Key = ByteString.CopyFrom(op.Key),
                Value = ByteString.CopyFrom(op.Value ?? []),
                Lease = op.Lease,
                PrevKv = op.PrevKv,
                IgnoreValue = op.IgnoreValue,
                IgnoreLease = op.IgnoreLease,
            },
        },
        { Kind: KvOpKind.Delete } => new V3.RequestOp { RequestDeleteRange = new V3.DeleteRangeRequest { Key = ByteString.CopyFrom(op.Key), PrevKv = op.PrevKv } },
        { Kind: KvOpKind.DeleteRange, Prefix: false, RangeEnd: { } end } => new V3.RequestOp
        {
            RequestDeleteRange = new V3.DeleteRangeRequest { Key = ByteString.CopyFrom(op.Key), RangeEnd = ByteString.CopyFrom(end), PrevKv = op.PrevKv },
        },
        { Kind: KvOpKind.Range, Range: { } range } => new V3.RequestOp { RequestRange = ToProto(range) },
        { Kind: KvOpKind.Txn, Nested: { } nested } => new V3.RequestOp { RequestTxn = ToProto(nested) },
        _ => throw new NotSupportedException($"a {op.Kind} op of this form has no etcd form"),
    };

    private static V3.RangeRequest ToProto(RangeRequest r) => new()
    {
        Key = ByteString.CopyFrom(r.Key),
        RangeEnd = r.RangeEnd is { } end ? ByteString.CopyFrom(end) : ByteString.Empty,
        Limit = r.Limit,
        Revision = r.Revision,
        SortOrder = (V3.RangeRequest.Types.SortOrder)(int)r.SortOrder,
        SortTarget = (V3.RangeRequest.Types.SortTarget)(int)r.SortTarget,
        KeysOnly = r.KeysOnly,
        CountOnly = r.CountOnly,
        MinModRevision = r.MinModRevision,
        MaxModRevision = r.MaxModRevision,
        MinCreateRevision = r.MinCreateRevision,
        MaxCreateRevision = r.MaxCreateRevision,
    };
}
