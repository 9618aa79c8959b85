namespace RaftKv.Replication.Api;

/// <summary>The kind of a <see cref="KvOp"/>.</summary>
public enum KvOpKind : byte
{
    Put = 1,
    Delete = 2,

    /// <summary>Delete [Key, RangeEnd) (no key when RangeEnd is at or before Key, as etcd), or every key with prefix Key
    /// when RangeEnd is null and Prefix is set.</summary>
    DeleteRange = 3,

    /// <summary>Read of one key inside a transaction (evaluated at apply time, on the committed state).
    /// Kept for the native API; <see cref="Range"/> is the general form.</summary>
    Get = 4,

    /// <summary>A full range read (<see cref="KvOp.Range"/>) inside a transaction: at the txn's revision, or with a
    /// <see cref="RangeRequest.Revision"/> the history at it (etcd; the whole txn fails when that revision is compacted or
    /// above the revision before the txn).</summary>
    Range = 5,

    /// <summary>A nested transaction (<see cref="KvOp.Nested"/>), evaluated at apply like the outer one.</summary>
    Txn = 6,
}

/// <summary>One operation of a write (a plain put is a transaction with one op and no compares).</summary>
/// <remarks>
/// <see cref="AllKeys"/> is the caller's explicit intent to delete the whole keyspace: a
/// <see cref="KvOpKind.DeleteRange"/> with an empty key is refused by validation unless it is set
/// (an empty key is never a silent "everything"). It is checked when the write is proposed and is
/// not part of the replicated command.
/// <para>Put: <see cref="Lease"/> attaches the key to a lease (0 = none); <see cref="IgnoreValue"/> /
/// <see cref="IgnoreLease"/> keep the key's current value / lease (the key must exist, else
/// <see cref="KeyNotFoundForIgnoreException"/>). Delete/DeleteRange with <see cref="PrevKv"/> return every
/// deleted key's previous KV (<see cref="OpResult.PrevKvs"/>).</para>
/// </remarks>
public sealed record KvOp(KvOpKind Kind, byte[] Key, byte[]? Value = null, byte[]? RangeEnd = null, bool Prefix = false, long TtlMs = 0, bool PrevKv = false, bool AllKeys = false,
    long Lease = 0, bool IgnoreValue = false, bool IgnoreLease = false, RangeRequest? Range = null, KvTxn? Nested = null)
{
    /// <summary>The longest TTL a put may carry (etcd's maximum lease TTL).</summary>
    public const long MaxTtlSeconds = 9_000_000_000;

    /// <summary>An ignore_value put as the proposer resolved it: <see cref="Value"/> is the key's value it
    /// read and this the key's mod revision then (0 = unresolved). Set by the node, not by callers; replicated.</summary>
    internal long ResolvedMod { get; init; }

    /// <summary>Converts a client's TTL in seconds to milliseconds; 0 = no expiry.</summary>
    /// <exception cref="ArgumentException">Negative or above <see cref="MaxTtlSeconds"/>.</exception>
    public static long TtlMsFromSeconds(long seconds)
        => seconds is >= 0 and <= MaxTtlSeconds
            ? seconds * 1000
            : throw new ArgumentException($"ttl must be between 0 and {MaxTtlSeconds} seconds, not {seconds}");

    public static KvOp Put(byte[] key, byte[] value, long ttlMs = 0, bool prevKv = false) => new(KvOpKind.Put, key, value, TtlMs: ttlMs, PrevKv: prevKv);

    public static KvOp Delete(byte[] key, bool prevKv = false) => new(KvOpKind.Delete, key, PrevKv: prevKv);

    public static KvOp DeleteRange(byte[] start, byte[] end) => new(KvOpKind.DeleteRange, start, RangeEnd: end);

    public static KvOp DeletePrefix(byte[] prefix) => new(KvOpKind.DeleteRange, prefix, Prefix: true);

    /// <summary>Deletes every key (the explicit, intended form of a whole-keyspace delete).</summary>
    public static KvOp DeleteAll() => new(KvOpKind.DeleteRange, [], Prefix: true, AllKeys: true);

    public static KvOp Get(byte[] key) => new(KvOpKind.Get, key);

    /// <summary>A range read inside a transaction (<see cref="RangeRequest.Revision"/> 0: at the txn's revision; else the
    /// history at it, as etcd: <see cref="KvOpKind.Range"/>).</summary>
    public static KvOp RangeRead(RangeRequest request) => new(KvOpKind.Range, request.Key, Range: request);

    /// <summary>A nested transaction.</summary>
    public static KvOp Txn(KvTxn nested) => new(KvOpKind.Txn, [], Nested: nested);
}
