using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace RaftKv.Storage.Tables;

/// <summary>A decoded (verified) data block payload; immutable and shareable through the block cache.</summary>
public sealed class DataBlock
{
    private readonly byte[] _data;
    private readonly int _restartsOffset;
    private readonly int _restartCount;

    public DataBlock(byte[] payload, string path)
        : this(payload, payload.Length, path)
    {
    }

    /// <summary>A block whose payload is <paramref name="buffer"/>[0, <paramref name="length"/>)
    /// (the rest, e.g. the block trailer, is ignored), so a block read from disk needs no copy.</summary>
    public DataBlock(byte[] buffer, int length, string path)
    {
        _data = buffer;
        if (length < 4 || length > buffer.Length)
        {
            throw new StorageCorruptionException(path, "data block too short");
        }

        _restartCount = (int)BinaryPrimitives.ReadUInt32LittleEndian(buffer.AsSpan(length - 4));
        _restartsOffset = length - 4 - (_restartCount * 4);
        if (_restartCount <= 0 || _restartsOffset < 0)
        {
            throw new StorageCorruptionException(path, "bad restart array in data block");
        }
    }

    public int SizeInBytes => _data.Length;

    /// <summary>The entry with exactly <paramref name="key"/>, or null (allocates the result; see
    /// <see cref="TryFind"/> for the allocation-free lookup).</summary>
    public InternalEntry? Find(ReadOnlySpan<byte> key)
        => TryFind(key, out var e) ? new InternalEntry(key.ToArray(), e.Value.ToArray(), e.Version, e.ExpiresAtUnixMs, e.Tombstone) : null;

    /// <summary>Looks <paramref name="key"/> up without allocating: the value in <paramref name="entry"/>
    /// is a slice of this block's payload.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot loop: skip tier-0 code
    public bool TryFind(ReadOnlySpan<byte> key, out BlockEntry entry)
    {
        // Binary search for the last restart whose key ≤ key.
        int lo = 0, hi = _restartCount - 1;
        while (lo < hi)
        {
            var mid = (lo + hi + 1) / 2;
            if (KeyComparer.Compare(ReadRestartKey(Restart(mid)), key) <= 0)
            {
                lo = mid;
            }
            else
            {
                hi = mid - 1;
            }
        }

        // Scan from the restart point. Entries store (shared, unshared) against the previous key, so
        // track how many leading bytes of the previous key matched the target: an entry can only
        // equal the target if it shares at least that many bytes with its predecessor.
        var at = Restart(lo);
        var matched = 0; // length of the common prefix of the previous key and the target
        var data = _data.AsSpan();
        while (at < _restartsOffset)
        {
            var shared = (int)Varint.Read(data, ref at);
            var unshared = (int)Varint.Read(data, ref at);
            var valueLength = (int)Varint.Read(data, ref at);
            var version = (long)Varint.Read(data, ref at);
            var expires = (long)Varint.Read(data, ref at);
            var flags = data[at++];
            var suffix = data.Slice(at, unshared);
            at += unshared;
            if (shared < matched)
            {
                // This key diverges from the previous one before the matched prefix ends, at a byte
                // where the previous key equalled the target: keys increase, so this key > target.
                entry = default;
                return false;
            }

            if (shared == matched)
            {
                // The key is target[..matched] + suffix: compare the suffix with the rest of the target.
                var rest = key[matched..];
                var common = suffix.CommonPrefixLength(rest);
                matched += common;
                if (common == suffix.Length && common == rest.Length)
                {
                    entry = new BlockEntry(new ReadOnlyMemory<byte>(_data, at, valueLength), version, expires, (flags & 1) != 0, (flags & 2) != 0);
                    return true;
                }

                if (common < suffix.Length && (common == rest.Length || suffix[common] > rest[common]))
                {
                    entry = default;
                    return false; // key > target
                }
            }

            // shared > matched: the key agrees with the previous key (which was < target) beyond
            // the matched prefix, so it is < target too; matched is unchanged.
            at += valueLength;
        }

        entry = default;
        return false;
    }

    /// <summary>The payload (immutable once cached): values handed out by cursors are slices of it.</summary>
    internal byte[] Payload => _data;

    /// <summary>Offset just past the last entry (where the restart array begins).</summary>
    internal int EntriesEnd => _restartsOffset;

    /// <summary>Offset of the last restart point whose key is ≤ <paramref name="key"/> (or the first
    /// one): scanning from there reaches every entry ≥ key.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot path: skip tier-0 code
    internal int SeekRestart(ReadOnlySpan<byte> key)
    {
        int lo = 0, hi = _restartCount - 1;
        while (lo < hi)
        {
            var mid = (lo + hi + 1) / 2;
            if (KeyComparer.Compare(ReadRestartKey(Restart(mid)), key) <= 0)
            {
                lo = mid;
            }
            else
            {
                hi = mid - 1;
            }
        }

        return Restart(lo);
    }

    /// <summary>Decodes the entry at <paramref name="pos"/> (which must be &lt; <see cref="EntriesEnd"/>)
    /// and advances it. The key is rebuilt in <paramref name="key"/> (grown as needed; its first
    /// <paramref name="keyLength"/> bytes must hold the previous entry's key, as left by the previous
    /// call, unless <paramref name="pos"/> is a restart point).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot loop: skip tier-0 code
    internal void ReadEntry(ref int pos, ref byte[] key, ref int keyLength, out int valueOffset, out int valueLength, out long version, out long expiresAtUnixMs, out bool tombstone, out bool blobRef)
    {
        var data = _data.AsSpan();
        var shared = (int)Varint.Read(data, ref pos);
        var unshared = (int)Varint.Read(data, ref pos);
        valueLength = (int)Varint.Read(data, ref pos);
        version = (long)Varint.Read(data, ref pos);
        expiresAtUnixMs = (long)Varint.Read(data, ref pos);
        var flags = data[pos++];
        tombstone = (flags & 1) != 0;
        blobRef = (flags & 2) != 0;
        if (shared > keyLength)
        {
            throw new FormatException("shared key prefix longer than the previous key");
        }

        var length = shared + unshared;
        if (key.Length < length)
        {
            Array.Resize(ref key, Math.Max(length, key.Length * 2));
        }

        data.Slice(pos, unshared).CopyTo(key.AsSpan(shared));
        pos += unshared;
        keyLength = length;
        valueOffset = pos;
        pos += valueLength;
        if (pos > _restartsOffset)
        {
            throw new FormatException("entry runs past the end of the block");
        }
    }

    private int Restart(int i) => (int)BinaryPrimitives.ReadUInt32LittleEndian(_data.AsSpan(_restartsOffset + (i * 4)));

    private ReadOnlySpan<byte> ReadRestartKey(int pos)
    {
        var p = pos;
        Varint.Read(_data, ref p); // shared = 0 at restarts
        var unshared = (int)Varint.Read(_data, ref p);
        Varint.Read(_data, ref p);
        Varint.Read(_data, ref p);
        Varint.Read(_data, ref p);
        p++;
        return _data.AsSpan(p, unshared);
    }
}
