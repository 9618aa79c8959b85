namespace RaftKv.Storage.Memtables;

/// <summary>
/// One version of one key in a <see cref="Memtable"/> skiplist, doubling as the zero-copy result
/// of memtable reads. Key and value bytes live in the memtable's arena
/// (<c>Data[KeyOffset..]</c> is the key, immediately followed by the value).
/// </summary>
/// <remarks>
/// Concurrency: everything but the forward links is immutable and set before the node is
/// published. Links are written by the single writer with <see cref="Volatile.Write{T}(ref T, T)"/>
/// (release) after the node's own links are initialized, and read by any thread with
/// <see cref="Volatile.Read{T}(ref readonly T)"/> (acquire), so a reader that reaches a node sees its
/// fields, bytes and lower links fully initialized. Level 0 is a field (most nodes have height 1,
/// so they need no link array).
/// </remarks>
internal sealed class MemtableNode
{
    private readonly MemtableNode?[]? _upper;
    private MemtableNode? _next0;

    public MemtableNode(byte[] data, int keyOffset, int keyLength, int valueLength, long version, long expiresAtUnixMs, bool tombstone, int height)
    {
        Data = data;
        KeyOffset = keyOffset;
        KeyLength = keyLength;
        ValueLength = valueLength;
        Version = version;
        ExpiresAtUnixMs = expiresAtUnixMs;
        Tombstone = tombstone;
        var key = new ReadOnlySpan<byte>(data, keyOffset, keyLength);
        Prefix0 = KeyPrefix.Read(key, 0);
        Prefix1 = KeyPrefix.Read(key, 8);
        _upper = height > 1 ? new MemtableNode?[height - 1] : null;
    }

    public byte[] Data { get; }

    /// <summary>Key bytes [0, 8) as a big-endian integer (zero-padded), so most comparisons never touch the arena.</summary>
    public ulong Prefix0 { get; }

    /// <summary>Key bytes [8, 16) as a big-endian integer (zero-padded).</summary>
    public ulong Prefix1 { get; }

    public int KeyOffset { get; }

    public int KeyLength { get; }

    public int ValueLength { get; }

    /// <summary>The Raft index that wrote this version.</summary>
    public long Version { get; }

    /// <summary>Expiry on the logical clock; 0 = never.</summary>
    public long ExpiresAtUnixMs { get; }

    public bool Tombstone { get; }

    public int Height => _upper is null ? 1 : _upper.Length + 1;

    public ReadOnlySpan<byte> KeySpan => new(Data, KeyOffset, KeyLength);

    public ReadOnlySpan<byte> ValueSpan => new(Data, KeyOffset + KeyLength, ValueLength);

    /// <summary>The key as memory into the arena (no copy; valid as long as it is referenced).</summary>
    public ReadOnlyMemory<byte> Key => new(Data, KeyOffset, KeyLength);

    /// <summary>The value as memory into the arena (no copy; valid as long as it is referenced).</summary>
    public ReadOnlyMemory<byte> Value => new(Data, KeyOffset + KeyLength, ValueLength);

    /// <summary>Orders this node's key against <paramref name="key"/> (whose prefixes the caller computed once).</summary>
    public int CompareKey(ReadOnlySpan<byte> key, ulong prefix0, ulong prefix1)
    {
        if (Prefix0 != prefix0)
        {
            return Prefix0 < prefix0 ? -1 : 1;
        }

        if (Prefix1 != prefix1)
        {
            return Prefix1 < prefix1 ? -1 : 1;
        }

        // The first 16 bytes agree (zero-padded): if either key ends within them, the shorter one
        // is a prefix of the other and sorts first; otherwise the tails decide.
        if (KeyLength <= KeyPrefix.Bytes || key.Length <= KeyPrefix.Bytes)
        {
            return KeyLength.CompareTo(key.Length);
        }

        return new ReadOnlySpan<byte>(Data, KeyOffset + KeyPrefix.Bytes, KeyLength - KeyPrefix.Bytes).SequenceCompareTo(key[KeyPrefix.Bytes..]);
    }

    /// <summary>Whether this node's key equals <paramref name="other"/>'s.</summary>
    public bool SameKey(MemtableNode other)
        => Prefix0 == other.Prefix0 && Prefix1 == other.Prefix1 && KeyLength == other.KeyLength
           && (KeyLength <= KeyPrefix.Bytes || KeySpan.SequenceEqual(other.KeySpan));

    /// <summary>Live (not a tombstone, not expired) at <paramref name="nowUnixMs"/>.</summary>
    public bool IsLiveAt(long nowUnixMs) => !Tombstone && (ExpiresAtUnixMs == 0 || ExpiresAtUnixMs > nowUnixMs);

    /// <summary>A standalone copy (for consumers that keep <see cref="InternalEntry"/>s).</summary>
    public InternalEntry ToInternalEntry() => new(KeySpan.ToArray(), ValueSpan.ToArray(), Version, ExpiresAtUnixMs, Tombstone);

    /// <summary>Acquire-read of the link at <paramref name="level"/> (any thread).</summary>
    public MemtableNode? Next(int level)
        => level == 0 ? Volatile.Read(ref _next0) : Volatile.Read(ref _upper![level - 1]);

    /// <summary>Release-write of the link at <paramref name="level"/> (writer thread only).</summary>
    public void SetNext(int level, MemtableNode? node)
    {
        if (level == 0)
        {
            Volatile.Write(ref _next0, node);
        }
        else
        {
            Volatile.Write(ref _upper![level - 1], node);
        }
    }
}
