namespace RaftKv.Storage.Memtables;

/// <summary>
/// Append-only byte storage for the keys and values of one <see cref="Memtable"/>: entries are
/// copied into large shared chunks instead of one array per key and per value.
/// </summary>
/// <remarks>
/// <para>Concurrency: only the memtable's single writer calls <see cref="Allocate"/> and writes the
/// returned range, before publishing the node that points at it (the skiplist's volatile link is the
/// release that makes the bytes visible). Readers only read ranges reachable from published nodes;
/// a range is never written again.</para>
/// <para>Chunks are ordinary GC arrays that are never pooled or reused, so a
/// <see cref="ReadOnlyMemory{T}"/> slice handed to a reader stays valid (and immutable) for as
/// long as the reader holds it, even after the memtable has been flushed and dropped.</para>
/// </remarks>
internal sealed class MemtableArena
{
    /// <summary>First chunk size; chunks double up to <see cref="MaxChunkBytes"/> so small memtables stay small.</summary>
    public const int MinChunkBytes = 4 << 10;

    public const int MaxChunkBytes = 1 << 20;

    /// <summary>Entries larger than this get a dedicated array (no chunk space is wasted on them).</summary>
    public const int DedicatedThreshold = MaxChunkBytes / 4;

    private byte[] _chunk = [];
    private int _used;
    private int _nextChunkBytes = MinChunkBytes;
    private long _allocatedBytes;

    /// <summary>Bytes of chunks and dedicated arrays allocated so far (writer thread only).</summary>
    public long AllocatedBytes => _allocatedBytes;

    /// <summary>Reserves <paramref name="length"/> contiguous bytes; returns the array and offset. Writer thread only.</summary>
    public byte[] Allocate(int length, out int offset)
    {
        if (length > DedicatedThreshold)
        {
            _allocatedBytes += length;
            offset = 0;
            return new byte[length];
        }

        if (_chunk.Length - _used < length)
        {
            var size = _nextChunkBytes;
            while (size < length)
            {
                size *= 2;
            }

            _chunk = new byte[size];
            _used = 0;
            _allocatedBytes += size;
            _nextChunkBytes = Math.Min(size * 2, MaxChunkBytes);
        }

        offset = _used;
        _used += length;
        return _chunk;
    }
}
