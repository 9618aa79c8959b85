using Google.Protobuf;
using RaftKv.Protocol.V1;
using RaftKv.Replication.Api;
using RaftKv.Storage;
using ApiCompareOp = RaftKv.Replication.Api.CompareOp;
using ApiCompareTarget = RaftKv.Replication.Api.CompareTarget;
using KeyValue = RaftKv.Protocol.V1.KeyValue;
using ProtoTier = RaftKv.Protocol.V1.Tier;
using StorageTier = RaftKv.Storage.Tier;

namespace RaftKv.Server.Grpc;

/// <summary>Conversions between protobuf messages and the replication API.</summary>
public static class ProtoMapping
{
    /// <summary>A KV of the MVCC model (native <c>version</c> = mod revision).</summary>
    public static KeyValue ToProto(Replication.Api.KeyValue kv) => new()
    {
        Key = ByteString.CopyFrom(kv.Key.Span),
        Value = ByteString.CopyFrom(kv.Value.Span),
        Version = (ulong)kv.ModRevision,
        ExpiresAtUnixMs = kv.ExpiresAtUnixMs,
        Tier = ToProto(kv.Tier),
        CreateRevision = (ulong)kv.CreateRevision,
        ModRevision = (ulong)kv.ModRevision,
        KeyVersion = (ulong)kv.Version,
        Lease = kv.Lease,
    };

    private static ProtoTier ToProto(StorageTier tier) => tier switch
    {
        StorageTier.Memory => ProtoTier.Memory,
        StorageTier.Disk => ProtoTier.Disk,
        StorageTier.Object => ProtoTier.Object,
        _ => ProtoTier.Unspecified,
    };

    /// <summary>A native entry (its version is the mod revision; no other MVCC fields).</summary>
    public static KeyValue ToProto(KvEntry e) => new()
    {
        Key = ByteString.CopyFrom(e.Key.Span),
        Value = ByteString.CopyFrom(e.Value.Span),
        Version = (ulong)e.Version,
        ModRevision = (ulong)e.Version,
        ExpiresAtUnixMs = e.ExpiresAtUnixMs,
        Tier = ToProto(e.Tier),
    };

    public static ReadConsistency ToApi(Consistency c) => c == Consistency.Serializable ? ReadConsistency.Serializable : ReadConsistency.Linearizable;

    public static KvOp ToApi(PutRequest p) => KvOp.Put(p.Key.ToByteArray(), ByteStrings.Bytes(p.Value), p.TtlSeconds <= KvOp.MaxTtlSeconds ? KvOp.TtlMsFromSeconds((long)p.TtlSeconds) : throw new ArgumentException($"ttl_seconds must be at most {KvOp.MaxTtlSeconds}"), p.PrevKv);

    /// <summary>A native delete. A <c>range_end</c> at or before the key is refused here (the node, like etcd, would
    /// delete nothing; the native API has always called it bad input).</summary>
    public static KvOp ToApi(DeleteRequest d)
        => d.AllKeys ? (d.Key.IsEmpty && d.RangeEnd.IsEmpty ? KvOp.DeleteAll() : throw new ArgumentException("all_keys deletes every key and takes no key or range_end"))
            : d.Prefix ? KvOp.DeletePrefix(d.Key.ToByteArray())
            : d.RangeEnd.IsEmpty ? KvOp.Delete(d.Key.ToByteArray())
            : d.RangeEnd.Span is not [0x00] && d.RangeEnd.Span.SequenceCompareTo(d.Key.Span) <= 0 ? throw new ArgumentException("range end must be greater than the start key")
            : KvOp.DeleteRange(d.Key.ToByteArray(), d.RangeEnd.ToByteArray());

    public static KvOp ToApi(TxnOp op) => op.OpCase switch
    {
        TxnOp.OpOneofCase.Put => ToApi(op.Put),
        TxnOp.OpOneofCase.Delete => ToApi(op.Delete),
        TxnOp.OpOneofCase.Get => KvOp.Get(op.Get.Key.ToByteArray()),
        _ => throw new ArgumentException("empty transaction op"),
    };

    public static KvCompare ToApi(Compare c) => new(
        c.Key.ToByteArray(),
        c.Target switch
        {
            Compare.Types.Target.Version => ApiCompareTarget.Mod, // the native version is the mod revision
            Compare.Types.Target.Value => ApiCompareTarget.Value,
            Compare.Types.Target.Exists => ApiCompareTarget.Exists,
            _ => throw new ArgumentException($"unknown compare target {c.Target}"),
        },
        c.Op switch
        {
            Compare.Types.Op.Equal => ApiCompareOp.Equal,
            Compare.Types.Op.NotEqual => ApiCompareOp.NotEqual,
            Compare.Types.Op.Greater => ApiCompareOp.Greater,
            Compare.Types.Op.Less => ApiCompareOp.Less,
            _ => throw new ArgumentException($"unknown compare op {c.Op}"),
        },
        (long)c.Version,
        c.Value.ToByteArray(),
        c.Exists);

    public static TxnOpResult ToProto(KvOp op, OpResult r, long revision, ResponseHeader header) => op.Kind switch
    {
        KvOpKind.Put => new TxnOpResult { Put = new PutResponse { Header = header, Version = (ulong)revision, PrevKv = r.PrevKv is { } p ? ToProto(p) : null } },
        KvOpKind.Delete or KvOpKind.DeleteRange => new TxnOpResult { Delete = new DeleteResponse { Header = header, Version = (ulong)revision, Deleted = (ulong)r.Deleted } },
        _ => new TxnOpResult { Get = new GetResponse { Header = header, Found = r.Range is { Kvs.Count: > 0 }, Kv = r.Range is { Kvs.Count: > 0 } g ? ToProto(g.Kvs[0]) : null } },
    };

    /// <summary>A member as another node listed it (<see cref="ToProto(MemberInfo)"/> read back; IsLocal is the
    /// answering node).</summary>
    public static MemberInfo ToApi(Member m)
    {
        ArgumentNullException.ThrowIfNull(m);
        return new MemberInfo((long)m.Id, m.RaftAddress, m.GrpcAddress, m.HttpAddress, m.IsLeader, !m.IsRemote, m.Status == "available", m.IsLearner);
    }

    public static Member ToProto(MemberInfo m) => new()
    {
        Id = (ulong)m.Id,
        RaftAddress = m.RaftAddress,
        GrpcAddress = m.GrpcAddress,
        HttpAddress = m.HttpAddress,
        IsLeader = m.IsLeader,
        IsRemote = !m.IsLocal,
        Status = m.Available ? "available" : "unavailable",
        IsLearner = m.IsLearner,
    };
}
