using System.Buffers;
using System.Runtime.CompilerServices;

namespace RaftKv.Replication.Commands;

/// <summary>
/// A growable byte buffer for the log-entry encoders (<see cref="CommandCodec.Encode"/>): bytes go into one
/// buffer reused by the calling thread, and the caller gets one exact-size copy. Replaces a
/// <c>List&lt;byte&gt;</c> that grew 64 → 128 → 256 → 512 bytes for a 256-byte value and was then copied
/// (about 1.2 KB of garbage per put on the leader). Not thread-safe: <see cref="Rent"/>, write, then
/// <see cref="ToArrayAndReturn"/> on the same thread, with no await in between.
/// </summary>
internal sealed class PayloadWriter
{
    /// <summary>Buffers up to this size are kept for the thread's next encode; larger ones go back to the pool.</summary>
    private const int KeepBytes = 64 * 1024;

    [ThreadStatic]
    private static PayloadWriter? t_cached;

    private byte[] _buffer = new byte[512];
    private int _length;

    public static PayloadWriter Rent()
    {
        var w = t_cached ?? new PayloadWriter();
        t_cached = null;
        w._length = 0;
        return w;
    }

    /// <summary>The bytes written, as a new array of exactly that length; the writer goes back to the thread.</summary>
    public byte[] ToArrayAndReturn()
    {
        var result = _buffer.AsSpan(0, _length).ToArray();
        if (_buffer.Length > KeepBytes)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = new byte[512];
        }

        t_cached = this;
        return result;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Add(byte value)
    {
        if (_length == _buffer.Length)
        {
            Grow(1);
        }

        _buffer[_length++] = value;
    }

    public void AddRange(ReadOnlySpan<byte> data)
    {
        if (_buffer.Length - _length < data.Length)
        {
            Grow(data.Length);
        }

        data.CopyTo(_buffer.AsSpan(_length));
        _length += data.Length;
    }

    /// <summary>An LEB128 unsigned varint (<see cref="Storage.Varint"/>'s encoding).</summary>
    public void WriteVarint(ulong value)
    {
        if (_buffer.Length - _length < 10)
        {
            Grow(10);
        }

        _length += Storage.Varint.Write(_buffer.AsSpan(_length), value);
    }

    /// <summary><c>length:varint data</c>.</summary>
    public void WriteBytes(ReadOnlySpan<byte> data)
    {
        WriteVarint((ulong)data.Length);
        AddRange(data);
    }

    private void Grow(int needed)
    {
        var size = Math.Max(_buffer.Length * 2, _length + needed);
        var next = ArrayPool<byte>.Shared.Rent(size);
        _buffer.AsSpan(0, _length).CopyTo(next);
        if (_buffer.Length > 512)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
        }

        _buffer = next;
    }
}
