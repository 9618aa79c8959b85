namespace RaftKv.Storage.Memtables;

/// <summary>
/// Append-only storage for one <see cref="Memtable"/>: every skiplist node (header, links, key and
/// value; see <see cref="MemtableNode"/>) is written into large shared chunks, so a memtable of a
/// million entries is a few hundred GC arrays without references instead of a million objects
/// (garbage collections neither mark nor move the entries).
/// </summary>
/// <remarks>
/// <para>Nodes are addressed by a <c>long</c> reference: <c>(chunk index + 1) &lt;&lt; 32 | offset</c>,
/// so 0 means "no node". Offsets are 8-byte aligned (links are read and written atomically).</para>
/// <para>Concurrency: only the memtable's single writer calls <see cref="Allocate"/> and writes the
/// returned range, before publishing the node that points at it (the skiplist's volatile link is the
/// release that makes the bytes visible). The chunk table is replaced (copied, then published with
/// <see cref="Volatile.Write{T}(ref T, T)"/>) before any node in a new chunk is linked, so a reader
/// that reached a reference can resolve it with <see cref="Resolve"/>. A range is never written
/// again once its node is published, except the node's own links (see <see cref="MemtableNode"/>).</para>
/// <para>Chunks are ordinary GC arrays that are never pooled or reused, so a
/// <see cref="ReadOnlyMemory{T}"/> slice handed to a reader stays valid (and immutable) for as
/// long as the reader holds it, even after the memtable has been flushed and dropped.</para>
/// </remarks>
internal sealed class MemtableArena
{
    /// <summary>First chunk size; chunks double up to <see cref="MaxChunkBytes"/> so small memtables stay small.</summary>
    public const int MinChunkBytes = 4 << 10;

    public const int MaxChunkBytes = 1 << 20;

    /// <summary>Entries larger than this get a dedicated chunk (no chunk space is wasted on them).</summary>
    public const int DedicatedThreshold = MaxChunkBytes / 4;

    private byte[]?[] _chunks = new byte[]?[16];
    private int _chunkCount;
    private int _current = -1;
    private int _used;
    private int _nextChunkBytes = MinChunkBytes;
    private long _allocatedBytes;

    /// <summary>Bytes of chunks allocated so far (writer thread only).</summary>
    public long AllocatedBytes => _allocatedBytes;

    /// <summary>Reserves <paramref name="length"/> contiguous bytes at an 8-byte aligned offset and
    /// returns the node reference of its start. The bytes are uninitialized. Writer thread only.</summary>
    public long Allocate(int length, out byte[] chunk, out int offset)
    {
        if (length > DedicatedThreshold)
        {
            chunk = AddChunk(length);
            offset = 0;
            var dedicated = _chunkCount - 1;
            return Reference(dedicated, 0);
        }

        if (_current < 0 || _chunks[_current]!.Length - _used < length)
        {
            var size = _nextChunkBytes;
            while (size < length)
            {
                size *= 2;
            }

            AddChunk(size);
            _current = _chunkCount - 1;
            _used = 0;
            _nextChunkBytes = Math.Min(size * 2, MaxChunkBytes);
        }

        chunk = _chunks[_current]!;
        offset = _used;
        _used = (_used + length + 7) & ~7;
        return Reference(_current, offset);
    }

    /// <summary>The node at <paramref name="reference"/> (non-zero, from a published link or
    /// <see cref="Allocate"/>). Any thread.</summary>
    public MemtableNode Resolve(long reference)
        => new(Volatile.Read(ref _chunks)[(int)(reference >> 32) - 1]!, (int)reference);

    private static long Reference(int chunk, int offset) => ((long)(chunk + 1) << 32) | (uint)offset;

    private byte[] AddChunk(int size)
    {
        var chunk = GC.AllocateUninitializedArray<byte>(size);
        if (_chunkCount == _chunks.Length)
        {
            var grown = new byte[]?[_chunks.Length * 2];
            Array.Copy(_chunks, grown, _chunkCount);
            grown[_chunkCount] = chunk;
            Volatile.Write(ref _chunks, grown);
        }
        else
        {
            Volatile.Write(ref _chunks[_chunkCount], chunk);
        }

        _chunkCount++;
        _allocatedBytes += size;
        return chunk;
    }
}
