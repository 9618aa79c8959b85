namespace RaftKv.Storage.Tables;

/// <summary>
/// Sequential block reads for one-pass readers (compaction): data blocks are served from a
/// window of <see cref="WindowBytes"/> read with one call, instead of one read per block, and
/// handed out in a reused buffer (nothing is cached).
/// </summary>
/// <remarks>Owned by one reader; not thread-safe. A block handed out by <see cref="TryRead"/> is
/// only valid until the next call.</remarks>
internal sealed class ReadAhead
{
    public const int WindowBytes = 256 << 10;

    private readonly byte[] _window = new byte[WindowBytes];
    private byte[] _block = new byte[16 << 10];
    private long _tableId = -1;
    private long _start;
    private int _length;

    /// <summary>Window refills so far (for tests).</summary>
    public int Reads { get; private set; }

    /// <summary>Copies bytes [<paramref name="offset"/>, offset + <paramref name="length"/>) of table
    /// <paramref name="tableId"/> into the returned buffer (which may be longer), refilling the
    /// window from <paramref name="source"/> when needed but never past <paramref name="dataEnd"/>.
    /// Returns null when the source cannot be read synchronously (object tier).</summary>
    public byte[]? TryRead(long tableId, IBlockSource source, long offset, int length, long dataEnd)
    {
        if (_block.Length < length)
        {
            _block = new byte[Math.Max(length, _block.Length * 2)];
        }

        if (length > WindowBytes)
        {
            return source.TryReadNow(offset, _block.AsSpan(0, length)) ? _block : null;
        }

        if (tableId != _tableId || offset < _start || offset + length > _start + _length)
        {
            var fill = (int)Math.Clamp(dataEnd - offset, length, WindowBytes);
            if (!source.TryReadNow(offset, _window.AsSpan(0, fill)))
            {
                return null;
            }

            (_tableId, _start, _length) = (tableId, offset, fill);
            Reads++;
        }

        _window.AsSpan((int)(offset - _start), length).CopyTo(_block);
        return _block;
    }
}
