namespace RaftKv.Storage;

/// <summary>The kind of a <see cref="WriteOp"/>.</summary>
public enum WriteOpKind : byte
{
    /// <summary>Set key to value (with optional expiry).</summary>
    Put = 1,

    /// <summary>Write a tombstone for key.</summary>
    Delete = 2,
}

/// <summary>
/// One mutation applied to the store at a Raft index. Deletes of ranges are expanded into
/// per-key deletes by the caller (KvState), which keeps the engine's write path simple.
/// </summary>
/// <param name="Kind">Put or Delete.</param>
/// <param name="Key">Non-empty key, at most 4 KiB.</param>
/// <param name="Value">Value bytes (empty for deletes); the whole value, or its first part when <see cref="ValueTail"/> is set.</param>
/// <param name="ExpiresAtUnixMs">Absolute expiry on the replicated logical clock; 0 = never.</param>
public readonly record struct WriteOp(WriteOpKind Kind, ReadOnlyMemory<byte> Key, ReadOnlyMemory<byte> Value, long ExpiresAtUnixMs)
{
    /// <summary>The rest of a put's value, stored right after <see cref="Value"/>: a value made of a small header and a
    /// large payload is written without first concatenating them (one copy of the payload less per write).</summary>
    public ReadOnlyMemory<byte> ValueTail { get; init; }

    public static WriteOp Put(ReadOnlyMemory<byte> key, ReadOnlyMemory<byte> value, long expiresAtUnixMs = 0)
        => new(WriteOpKind.Put, key, value, expiresAtUnixMs);

    /// <summary>A put whose value is <paramref name="head"/> followed by <paramref name="tail"/>.</summary>
    public static WriteOp Put(ReadOnlyMemory<byte> key, ReadOnlyMemory<byte> head, ReadOnlyMemory<byte> tail, long expiresAtUnixMs = 0)
        => new(WriteOpKind.Put, key, head, expiresAtUnixMs) { ValueTail = tail };

    public static WriteOp Delete(ReadOnlyMemory<byte> key)
        => new(WriteOpKind.Delete, key, ReadOnlyMemory<byte>.Empty, 0);
}
