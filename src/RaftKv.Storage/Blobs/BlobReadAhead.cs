namespace RaftKv.Storage.Blobs;

/// <summary>
/// Windows of value-file bytes for one reader that resolves many pointers in key order (a scan, a compaction that
/// relocates values, a keys-file build): a flush writes a value file in key order, so the values a scan meets in one
/// file lie one after the other, and a window read with one call serves the next ones without a read each
/// (<see cref="BlobSet.Read"/>). History records (small values kept in value files by a <see cref="ValueFileRule"/>)
/// are where this pays: a HashKV or a watch catching up from an old revision resolves one pointer per record.
/// </summary>
/// <remarks>
/// <para>Up to <see cref="Slots"/> windows, one per value file being read (a compacted level points into several files
/// at once), the least recently used one replaced. A window starts at <see cref="MinWindowBytes"/> and doubles, up to
/// <see cref="MaxWindowBytes"/>, each time the reader runs past its end into the next window's span (sequential reading, like the
/// kernel's read-ahead); a read that jumps elsewhere in the file starts small again, so sparse reads of a mostly-dead file cost
/// about what single reads cost. Windows stay below the large-object heap's threshold.</para>
/// <para>Owned by one reader; not thread-safe. Only complete (sealed) files are read ahead: their bytes never change.</para>
/// </remarks>
internal sealed class BlobReadAhead
{
    public const int MinWindowBytes = 8 << 10;
    public const int MaxWindowBytes = 64 << 10;
    public const int Slots = 4;

    private readonly Window[] _windows = new Window[Slots];
    private long _clock;

    /// <summary>Window fills so far, and the bytes they read (for tests).</summary>
    public int Fills { get; private set; }

    /// <inheritdoc cref="Fills"/>
    public long BytesFilled { get; private set; }

    /// <summary>Whether a record of <paramref name="recordBytes"/> should go through a window (small enough to share
    /// one with its neighbours); larger ones are read alone.</summary>
    public static bool Serves(int recordBytes) => recordBytes <= MaxWindowBytes / 4;

    /// <summary>The bytes [<paramref name="offset"/>, offset + <paramref name="length"/>) of file <paramref name="fileId"/>
    /// if a window holds them.</summary>
    public bool TryGet(ulong fileId, long offset, int length, out ReadOnlySpan<byte> bytes)
    {
        foreach (var w in _windows)
        {
            if (w is not null && w.FileId == fileId && offset >= w.Start && offset + length <= w.Start + w.Length)
            {
                w.LastUse = ++_clock;
                bytes = w.Buffer.AsSpan((int)(offset - w.Start), length);
                return true;
            }
        }

        bytes = default;
        return false;
    }

    /// <summary>Picks the window to refill for a miss at <paramref name="offset"/> of <paramref name="fileId"/> and the
    /// number of bytes to read into it: at least <paramref name="length"/>, never past <paramref name="fileSize"/>.
    /// The caller reads them into <see cref="Window.Buffer"/> and then calls <see cref="Filled"/>.</summary>
    public (Window Window, int Bytes) PrepareFill(ulong fileId, long offset, int length, long fileSize)
    {
        Window? target = null;
        foreach (var w in _windows)
        {
            if (w is not null && w.FileId == fileId)
            {
                target = w;
                break;
            }
        }

        var size = MinWindowBytes;
        if (target is not null && offset > target.Start && offset - target.Start < 2L * target.Length)
        {
            size = Math.Min(target.Size * 2, MaxWindowBytes); // ran past the window's end, just beyond it or across it: sequential
        }

        if (target is null)
        {
            var slot = 0;
            for (var i = 0; i < Slots; i++)
            {
                if (_windows[i] is null)
                {
                    slot = i;
                    break;
                }

                if (_windows[i].LastUse < _windows[slot].LastUse)
                {
                    slot = i;
                }
            }

            target = _windows[slot] ??= new Window();
        }

        var bytes = (int)Math.Clamp(fileSize - offset, length, Math.Max(size, length));
        if (target.Buffer.Length < bytes)
        {
            target.Buffer = new byte[Math.Max(bytes, Math.Min(size, MaxWindowBytes))];
        }

        target.FileId = 0;
        target.Size = Math.Max(size, length);
        return (target, bytes);
    }

    /// <summary>Records that <paramref name="window"/> now holds <paramref name="bytes"/> bytes of
    /// <paramref name="fileId"/> from <paramref name="offset"/>.</summary>
    public void Filled(Window window, ulong fileId, long offset, int bytes)
    {
        window.FileId = fileId;
        window.Start = offset;
        window.Length = bytes;
        window.LastUse = ++_clock;
        Fills++;
        BytesFilled += bytes;
    }

    /// <summary>One window: bytes [Start, Start + Length) of value file FileId (0 = empty).</summary>
    internal sealed class Window
    {
        public ulong FileId;
        public long Start;
        public int Length;
        public int Size;
        public long LastUse;
        public byte[] Buffer = [];
    }
}
