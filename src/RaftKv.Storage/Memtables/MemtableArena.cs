namespace RaftKv.Storage.Memtables;

/// <summary>
/// Append-only storage for one <see cref="Memtable"/>: every skiplist node (a header with its links,
/// and its key and value bytes; see <see cref="MemtableNode"/>) is written into large shared chunks,
/// so a memtable of a million entries is a few hundred GC arrays without references instead of a
/// million objects (garbage collections neither mark nor move the entries). Headers and data are
/// allocated from separate chunks.
/// </summary>
/// <remarks>
/// <para>Headers and data are addressed by a <c>long</c> reference: <c>(chunk index + 1) &lt;&lt; 32 |
/// offset</c>, so 0 means "none". Offsets are 8-byte aligned (links are read and written atomically).</para>
/// <para>Concurrency: only the memtable's single writer calls <see cref="AllocateNode"/> and
/// <see cref="AllocateData"/> and writes the returned ranges, before publishing the node that points
/// at them (the skiplist's volatile link is the release that makes the bytes visible). The chunk table is replaced (copied, then published with
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
    private BumpPointer _nodes = new();
    private BumpPointer _data = new();
    private long _allocatedBytes;

    /// <summary>Bytes of chunks allocated so far (writer thread only).</summary>
    public long AllocatedBytes => _allocatedBytes;

    /// <summary>Reserves <paramref name="length"/> contiguous bytes for a node header (and its
    /// links) at an 8-byte aligned offset and returns the reference of its start. Headers get
    /// chunks of their own, so a skiplist search walks densely packed headers instead of striding
    /// over values. The bytes are uninitialized. Writer thread only.</summary>
    public long AllocateNode(int length, out byte[] chunk, out int offset) => Allocate(ref _nodes, length, out chunk, out offset);

    /// <summary>Reserves <paramref name="length"/> contiguous bytes for key and value bytes (8-byte
    /// aligned; a dedicated chunk above <see cref="DedicatedThreshold"/>). Writer thread only.</summary>
    public long AllocateData(int length, out byte[] chunk, out int offset)
    {
        if (length > DedicatedThreshold)
        {
            chunk = AddChunk(length);
            offset = 0;
            return Reference(_chunkCount - 1, 0);
        }

        return Allocate(ref _data, length, out chunk, out offset);
    }

    /// <summary>The node at <paramref name="reference"/> (non-zero, from a published link or
    /// <see cref="AllocateNode"/>). Any thread.</summary>
    public MemtableNode Resolve(long reference) => new(this, Chunk(reference), (int)reference);

    /// <summary>The chunk holding <paramref name="reference"/> (its offset is <c>(int)reference</c>). Any thread.</summary>
    public byte[] Chunk(long reference) => Volatile.Read(ref _chunks)[(int)(reference >> 32) - 1]!;

    private static long Reference(int chunk, int offset) => ((long)(chunk + 1) << 32) | (uint)offset;

    private long Allocate(ref BumpPointer stream, int length, out byte[] chunk, out int offset)
    {
        if (stream.Current < 0 || _chunks[stream.Current]!.Length - stream.Used < length)
        {
            var size = stream.NextChunkBytes;
            while (size < length)
            {
                size *= 2;
            }

            AddChunk(size);
            stream.Current = _chunkCount - 1;
            stream.Used = 0;
            stream.NextChunkBytes = Math.Min(size * 2, MaxChunkBytes);
        }

        chunk = _chunks[stream.Current]!;
        offset = stream.Used;
        stream.Used = (stream.Used + length + 7) & ~7;
        return Reference(stream.Current, offset);
    }

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

    /// <summary>Where the next allocation of one kind (headers or data) goes.</summary>
    private struct BumpPointer()
    {
        public int Current = -1;
        public int Used;
        public int NextChunkBytes = MinChunkBytes;
    }
}
