namespace RaftKv.Storage.Tables;

/// <summary>
/// Sequential block reads for one-pass readers (compaction, re-encoding): data blocks are served from a
/// window of <see cref="WindowBytes"/> read with one call, instead of one read per block, and
/// handed out in a reused buffer (nothing is cached). A local file fills the window synchronously
/// (<see cref="TryRead"/>); an archived table's object fills it with one ranged GET (<see cref="FillAsync"/>),
/// so compacting archived tables costs one request per window, not one per block.
/// </summary>
/// <remarks>Owned by one reader; not thread-safe. A block handed out by <see cref="TryRead"/> is
/// only valid until the next call.</remarks>
internal sealed class ReadAhead
{
    public const int WindowBytes = 256 << 10;

    private byte[] _window = new byte[WindowBytes];
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

        if (!Holds(tableId, offset, length))
        {
            if (length > WindowBytes)
            {
                return source.TryReadNow(offset, _block.AsSpan(0, length)) ? _block : null;
            }

            var fill = (int)Math.Clamp(dataEnd - offset, length, WindowBytes);
            if (_window.Length < fill)
            {
                _window = new byte[WindowBytes]; // the last fill was a short object read
            }

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

    /// <summary>Fills the window with bytes [<paramref name="offset"/>, …) of table <paramref name="tableId"/>
    /// read by one awaited call (one ranged GET for an object), at least <paramref name="length"/> bytes and at
    /// most <see cref="WindowBytes"/>, never past <paramref name="dataEnd"/>; the next <see cref="TryRead"/> of
    /// a block inside it is then served without I/O. A block longer than the window is read alone.</summary>
    public async ValueTask FillAsync(long tableId, IBlockSource source, long offset, int length, long dataEnd, CancellationToken cancellationToken)
    {
        if (Holds(tableId, offset, length))
        {
            return;
        }

        var fill = (int)Math.Clamp(dataEnd - offset, length, Math.Max(length, WindowBytes));
        var read = await source.ReadAsync(offset, fill, cancellationToken).ConfigureAwait(false);
        _window = read; // the source's new array: no copy
        (_tableId, _start, _length) = (tableId, offset, fill);
        Reads++;
    }

    private bool Holds(long tableId, long offset, int length)
        => tableId == _tableId && offset >= _start && offset + length <= _start + _length;
}
