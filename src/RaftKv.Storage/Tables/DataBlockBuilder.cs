using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace RaftKv.Storage.Tables;

/// <summary>Builds one data block payload: prefix-compressed entries with a restart point every
/// <see cref="RestartInterval"/> entries (FORMAT.md). Not thread-safe (one table writer).</summary>
public sealed class DataBlockBuilder
{
    public const int RestartInterval = 16;

    private const int MaxVarintBytes = 10;

    private readonly List<int> _restarts = [];
    private byte[] _buffer = new byte[8192];
    private int _length;
    private byte[] _lastKey = new byte[64];
    private int _lastKeyLength;
    private int _count;

    public int EstimatedSize => _length + (_restarts.Count * 4) + 4;

    public bool IsEmpty => _count == 0;

    /// <summary>The last key added (a view of an internal buffer, valid until the next call).</summary>
    public ReadOnlySpan<byte> LastKey => _lastKey.AsSpan(0, _lastKeyLength);

    public void Add(InternalEntry entry) => Add(entry.Key, entry.Value, entry.Version, entry.ExpiresAtUnixMs, entry.Tombstone);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot path: skip tier-0 code
    public void Add(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, long version, long expiresAtUnixMs, bool tombstone, bool blobRef = false)
    {
        var shared = 0;
        if (_count % RestartInterval == 0)
        {
            _restarts.Add(_length);
        }
        else
        {
            shared = key.CommonPrefixLength(LastKey);
        }

        var unshared = key.Length - shared;
        EnsureCapacity((5 * MaxVarintBytes) + 1 + unshared + value.Length);
        var span = _buffer.AsSpan();
        _length += Varint.Write(span[_length..], (ulong)shared);
        _length += Varint.Write(span[_length..], (ulong)unshared);
        _length += Varint.Write(span[_length..], (ulong)value.Length);
        _length += Varint.Write(span[_length..], (ulong)version);
        _length += Varint.Write(span[_length..], (ulong)expiresAtUnixMs);
        span[_length++] = (byte)((tombstone ? 1 : 0) | (blobRef ? 2 : 0));
        key[shared..].CopyTo(span[_length..]);
        _length += unshared;
        value.CopyTo(span[_length..]);
        _length += value.Length;

        if (_lastKey.Length < key.Length)
        {
            Array.Resize(ref _lastKey, Math.Max(key.Length, _lastKey.Length * 2)); // keeps the shared prefix
        }

        key[shared..].CopyTo(_lastKey.AsSpan(shared));
        _lastKeyLength = key.Length;
        _count++;
    }

    /// <summary>Returns the finished payload (a view of an internal buffer, valid until the next
    /// <see cref="Add(ReadOnlySpan{byte}, ReadOnlySpan{byte}, long, long, bool, bool)"/>) and resets the builder.</summary>
    public ReadOnlySpan<byte> Finish()
    {
        EnsureCapacity((_restarts.Count + 1) * 4);
        foreach (var r in _restarts)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(_buffer.AsSpan(_length), (uint)r);
            _length += 4;
        }

        BinaryPrimitives.WriteUInt32LittleEndian(_buffer.AsSpan(_length), (uint)_restarts.Count);
        _length += 4;
        var result = _buffer.AsSpan(0, _length);
        _length = 0;
        _restarts.Clear();
        _count = 0;
        _lastKeyLength = 0;
        return result;
    }

    private void EnsureCapacity(int extra)
    {
        if (_length + extra > _buffer.Length)
        {
            Array.Resize(ref _buffer, Math.Max(_length + extra, _buffer.Length * 2));
        }
    }
}
