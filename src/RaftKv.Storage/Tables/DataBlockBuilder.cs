using System.Buffers.Binary;

namespace RaftKv.Storage.Tables;

/// <summary>Builds one data block payload: prefix-compressed entries with a restart point every
/// <see cref="RestartInterval"/> entries (FORMAT.md).</summary>
public sealed class DataBlockBuilder
{
    public const int RestartInterval = 16;

    private readonly List<byte> _buffer = new(8192);
    private readonly List<int> _restarts = [];
    private byte[] _lastKey = [];
    private int _count;

    public int EstimatedSize => _buffer.Count + (_restarts.Count * 4) + 4;

    public bool IsEmpty => _count == 0;

    public byte[] LastKey => _lastKey;

    public void Add(InternalEntry entry)
    {
        var shared = 0;
        if (_count % RestartInterval == 0)
        {
            _restarts.Add(_buffer.Count);
        }
        else
        {
            var max = Math.Min(_lastKey.Length, entry.Key.Length);
            while (shared < max && _lastKey[shared] == entry.Key[shared])
            {
                shared++;
            }
        }

        Varint.Write(_buffer, (ulong)shared);
        Varint.Write(_buffer, (ulong)(entry.Key.Length - shared));
        Varint.Write(_buffer, (ulong)entry.Value.Length);
        Varint.Write(_buffer, (ulong)entry.Version);
        Varint.Write(_buffer, (ulong)entry.ExpiresAtUnixMs);
        _buffer.Add(entry.Tombstone ? (byte)1 : (byte)0);
        _buffer.AddRange(entry.Key.AsSpan(shared));
        _buffer.AddRange(entry.Value);
        _lastKey = entry.Key;
        _count++;
    }

    /// <summary>Returns a copy of the finished payload and resets the builder.</summary>
    public byte[] Finish()
    {
        var result = FinishInPlace().ToArray();
        Reset();
        return result;
    }

    /// <summary>
    /// Appends the restart array and returns the finished payload in place (no copy). The span is
    /// valid until the next <see cref="Add"/> or <see cref="Reset"/>; call <see cref="Reset"/> after use.
    /// </summary>
    public ReadOnlySpan<byte> FinishInPlace()
    {
        Span<byte> u32 = stackalloc byte[4];
        foreach (var r in _restarts)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(u32, (uint)r);
            _buffer.AddRange(u32);
        }

        BinaryPrimitives.WriteUInt32LittleEndian(u32, (uint)_restarts.Count);
        _buffer.AddRange(u32);
        return System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_buffer);
    }

    public void Reset()
    {
        _buffer.Clear();
        _restarts.Clear();
        _count = 0;
        _lastKey = [];
    }
}
