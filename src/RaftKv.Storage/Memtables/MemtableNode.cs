using System.Runtime.InteropServices;

namespace RaftKv.Storage.Memtables;

/// <summary>
/// One version of one key in a <see cref="Memtable"/> skiplist: a view of the node's header in the
/// memtable's <see cref="MemtableArena"/>, doubling as the zero-copy result of memtable reads.
/// </summary>
/// <remarks>
/// <para>Layout around the node's <c>offset</c> (8-byte aligned; integers in native byte order,
/// this is memory only). The links come first, so the level-0 link, the key prefixes and the
/// version that a search reads are adjacent (usually one cache line):</para>
/// <code>
/// -8·height next:i64[height] (next[level] at -8·(level + 1))
///  0 prefix0:u64   8 prefix1:u64   16 version:i64   24 expiresAt:i64
/// 32 keyLength:i32 36 valueLength:i32 40 height:u8 41 flags:u8 (bit0 tombstone) 42 unused[6]
/// 48 data:i64 (arena reference of key[keyLength] value[valueLength])
/// </code>
/// <para>Keys and values live apart from the headers, so a search compares the inline key
/// prefixes of densely packed headers and touches key bytes only when 16-byte prefixes tie.</para>
/// <para>Concurrency: everything but the <c>next</c> links is written once, before the node is
/// published. Links hold node references (<see cref="MemtableArena"/>; 0 = none) and are written
/// by the single writer with <see cref="Volatile.Write(ref long, long)"/> (release) after the node's
/// own links are initialized, and read by any thread with <see cref="Volatile.Read(ref readonly long)"/>
/// (acquire), so a reader that reaches a node sees its fields, bytes and lower links fully
/// initialized.</para>
/// </remarks>
internal readonly struct MemtableNode
{
    /// <summary>Bytes from the node's offset on (after its links).</summary>
    public const int HeaderBytes = 56;

    private readonly MemtableArena _arena;
    private readonly byte[] _chunk;
    private readonly int _offset;

    public MemtableNode(MemtableArena arena, byte[] chunk, int offset)
    {
        _arena = arena;
        _chunk = chunk;
        _offset = offset;
    }

    /// <summary>Arena bytes (links and header) of a node of this height.</summary>
    public static int SizeOf(int height) => HeaderBytes + (height * 8);

    /// <summary>The Raft index that wrote this version.</summary>
    public long Version => Read<long>(16);

    /// <summary>Expiry on the logical clock; 0 = never.</summary>
    public long ExpiresAtUnixMs => Read<long>(24);

    /// <summary>Key bytes [0, 8) as a big-endian integer (zero-padded), so most comparisons never touch the key bytes.</summary>
    public ulong Prefix0 => Read<ulong>(0);

    /// <summary>Key bytes [8, 16) as a big-endian integer (zero-padded).</summary>
    public ulong Prefix1 => Read<ulong>(8);

    public int KeyLength => Read<int>(32);

    public int ValueLength => Read<int>(36);

    public int Height => _chunk[_offset + 40];

    public bool Tombstone => (_chunk[_offset + 41] & 1) != 0;

    public ReadOnlySpan<byte> KeySpan => new(DataChunk, DataOffset, KeyLength);

    public ReadOnlySpan<byte> ValueSpan => new(DataChunk, DataOffset + KeyLength, ValueLength);

    /// <summary>The key as memory into the arena (no copy; valid as long as it is referenced).</summary>
    public ReadOnlyMemory<byte> Key => new(DataChunk, DataOffset, KeyLength);

    /// <summary>The value as memory into the arena (no copy; valid as long as it is referenced).</summary>
    public ReadOnlyMemory<byte> Value => new(DataChunk, DataOffset + KeyLength, ValueLength);

    private byte[] DataChunk => _arena.Chunk(Read<long>(48));

    private int DataOffset => (int)Read<long>(48);

    /// <summary>Allocates and writes a node (links cleared) in <paramref name="arena"/> and returns
    /// its reference. Writer thread only, before publication.</summary>
    public static long Create(MemtableArena arena, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ReadOnlySpan<byte> valueTail, long version, long expiresAtUnixMs, bool tombstone, int height)
    {
        var valueLength = value.Length + valueTail.Length;
        var data = arena.AllocateData(key.Length + valueLength, out var dataChunk, out var dataOffset);
        key.CopyTo(dataChunk.AsSpan(dataOffset));
        value.CopyTo(dataChunk.AsSpan(dataOffset + key.Length));
        valueTail.CopyTo(dataChunk.AsSpan(dataOffset + key.Length + value.Length));
        var links = height * 8;
        var start = arena.AllocateNode(SizeOf(height), out var chunk, out var offset);
        chunk.AsSpan(offset, links).Clear();
        var span = chunk.AsSpan(offset + links, HeaderBytes);
        MemoryMarshal.Write(span, KeyPrefix.Read(key, 0));
        MemoryMarshal.Write(span[8..], KeyPrefix.Read(key, 8));
        MemoryMarshal.Write(span[16..], version);
        MemoryMarshal.Write(span[24..], expiresAtUnixMs);
        MemoryMarshal.Write(span[32..], key.Length);
        MemoryMarshal.Write(span[36..], valueLength);
        span[40] = (byte)height;
        span[41] = tombstone ? (byte)1 : (byte)0;
        span[42..48].Clear();
        MemoryMarshal.Write(span[48..], data);
        return start + links; // same chunk: the reference of the header
    }

    /// <summary>Orders this node's key against <paramref name="key"/> (whose prefixes the caller computed once).</summary>
    public int CompareKey(ReadOnlySpan<byte> key, ulong prefix0, ulong prefix1)
    {
        var own0 = Prefix0;
        if (own0 != prefix0)
        {
            return own0 < prefix0 ? -1 : 1;
        }

        var own1 = Prefix1;
        if (own1 != prefix1)
        {
            return own1 < prefix1 ? -1 : 1;
        }

        // The first 16 bytes agree (zero-padded): if either key ends within them, the shorter one
        // is a prefix of the other and sorts first; otherwise the tails decide.
        var length = KeyLength;
        if (length <= KeyPrefix.Bytes || key.Length <= KeyPrefix.Bytes)
        {
            return length.CompareTo(key.Length);
        }

        return new ReadOnlySpan<byte>(DataChunk, DataOffset + KeyPrefix.Bytes, length - KeyPrefix.Bytes).SequenceCompareTo(key[KeyPrefix.Bytes..]);
    }

    /// <summary>Whether this node's key equals <paramref name="other"/>'s.</summary>
    public bool SameKey(MemtableNode other)
        => Prefix0 == other.Prefix0 && Prefix1 == other.Prefix1 && KeyLength == other.KeyLength
           && (KeyLength <= KeyPrefix.Bytes || KeySpan.SequenceEqual(other.KeySpan));

    /// <summary>Live (not a tombstone, not expired) at <paramref name="nowUnixMs"/>.</summary>
    public bool IsLiveAt(long nowUnixMs)
    {
        var expires = ExpiresAtUnixMs;
        return !Tombstone && (expires == 0 || expires > nowUnixMs);
    }

    /// <summary>A standalone copy (for consumers that keep <see cref="InternalEntry"/>s).</summary>
    public InternalEntry ToInternalEntry() => new(KeySpan.ToArray(), ValueSpan.ToArray(), Version, ExpiresAtUnixMs, Tombstone);

    /// <summary>Acquire-read of the link at <paramref name="level"/> (any thread): a node reference, 0 = none.</summary>
    public long Next(int level) => Volatile.Read(ref Link(level));

    /// <summary>Release-write of the link at <paramref name="level"/> (writer thread only).</summary>
    public void SetNext(int level, long node) => Volatile.Write(ref Link(level), node);

    private ref long Link(int level) => ref MemoryMarshal.Cast<byte, long>(_chunk.AsSpan(_offset - ((level + 1) * 8), 8))[0];

    private T Read<T>(int at)
        where T : unmanaged
        => MemoryMarshal.Read<T>(_chunk.AsSpan(_offset + at));
}
