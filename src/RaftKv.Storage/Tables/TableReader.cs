using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using RaftKv.Storage.IO;

namespace RaftKv.Storage.Tables;

/// <summary>
/// An open SSTable: index, bloom filter and meta in memory; data blocks read through an
/// <see cref="IBlockSource"/> (local file or archived object) and cached in the shared
/// <see cref="BlockCache"/>. Immutable and safe for concurrent readers. Lifetime is reference
/// counted by the store (<see cref="Ref"/>/<see cref="Unref"/>) so a file is deleted only when no
/// reader can still use it.
/// </summary>
public sealed partial class TableReader
{
    private readonly BlockHandle[] _index;
    private readonly BloomFilter _bloom;
    private readonly BlockCache _cache;
    private readonly string _path;
    private IBlockSource _source;
    private int _refs = 1;
    private Blobs.BlobSet? _blobs; // set once by AttachBlobs, before the reader is shared

    private TableReader(long id, long cacheId, string path, BlockHandle[] index, BloomFilter bloom, TableMeta meta, long size, long tailOffset, IBlockSource source, BlockCache cache, ulong magic)
    {
        Id = id;
        CacheId = cacheId;
        _path = path;
        _index = index;
        _bloom = bloom;
        Meta = meta;
        Size = size;
        TailOffset = tailOffset;
        _source = source;
        _cache = cache;
        IsKeysFile = magic == KeysFile.Magic;
    }

    public long Id { get; }

    /// <summary>This reader's key space in the <see cref="BlockCache"/> (block offsets are per file):
    /// <see cref="Id"/>, except for a table re-encoded when it was archived, whose new layout must
    /// never be served blocks cached for the local file it replaces (<see cref="ReencodedCacheId"/>).</summary>
    public long CacheId { get; }

    /// <summary>Cache id of table <paramref name="tableId"/> re-encoded for the object tier (disjoint
    /// from table ids and from <see cref="KeysFile.CacheId"/>).</summary>
    public static long ReencodedCacheId(long tableId) => tableId | (1L << 61);

    public TableMeta Meta { get; }

    public long Size { get; }

    /// <summary>Offset of the index block: bytes [TailOffset, Size) are the "tail" kept locally for archived tables.</summary>
    public long TailOffset { get; }

    public bool IsRemote => _source.IsRemote;

    /// <summary>The object an archived table is read from (null while local).</summary>
    public string? ObjectName => (Volatile.Read(ref _source) as RemoteBlockSource)?.ObjectName;

    /// <summary>Bytes this table occupies on local disk: the whole file while local; once archived,
    /// the tail and the keys file kept locally (<see cref="KeysFile"/>).</summary>
    public long LocalBytes => IsRemote ? Size - TailOffset + (Keys?.Size ?? 0) : Size;

    /// <summary>Whether this is an archived table's keys file (<see cref="KeysFile"/>), whose entries stand for archived ones.</summary>
    public bool IsKeysFile { get; }

    /// <summary>Called when the last reference is dropped (the store deletes obsolete files here).</summary>
    public Action<TableReader>? OnReleased { get; set; }

    /// <summary>Opens a local table file, verifying footer, index, bloom and meta. <paramref name="magic"/>
    /// is the role the file must have (<see cref="TableWriter.Magic"/> or <see cref="KeysFile.Magic"/>).</summary>
    public static TableReader OpenLocal(IFileSystem fs, string path, long id, BlockCache cache, ulong magic = TableWriter.Magic)
    {
        var file = fs.OpenRead(path);
        try
        {
            var size = file.Length;
            if (size < TableWriter.FooterSize)
            {
                throw new StorageCorruptionException(path, $"file is {size} bytes, shorter than the footer");
            }

            var footer = new byte[TableWriter.FooterSize];
            file.ReadExactly(size - TableWriter.FooterSize, footer);
            var tailOffset = (long)BinaryPrimitives.ReadUInt64LittleEndian(footer);
            if (tailOffset < 0 || tailOffset > size - TableWriter.FooterSize)
            {
                throw new StorageCorruptionException(path, "footer points outside the file");
            }

            var tail = new byte[size - tailOffset];
            file.ReadExactly(tailOffset, tail);
            return FromTail(path, id, tail, size, new LocalBlockSource(file), cache, magic);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>Builds a reader from the table's tail (index..footer) and a data source.</summary>
    public static TableReader FromTail(string path, long id, byte[] tail, long size, IBlockSource source, BlockCache cache, ulong magic = TableWriter.Magic, long? cacheId = null)
    {
        if (tail.Length < TableWriter.FooterSize)
        {
            throw new StorageCorruptionException(path, "table tail shorter than the footer");
        }

        var footerOffset = tail.Length - TableWriter.FooterSize;
        var footer = tail.AsSpan(footerOffset);
        var found = BinaryPrimitives.ReadUInt64LittleEndian(footer[40..]);
        if (found != magic)
        {
            throw new StorageCorruptionException(path, found is TableWriter.Magic or KeysFile.Magic
                ? "file has the wrong role (a data table where a keys file was expected, or the reverse)"
                : "bad magic number (not an SSTable, or truncated)");
        }

        var version = BinaryPrimitives.ReadUInt32LittleEndian(footer[36..]);
        if (version is not (TableWriter.FormatVersion1 or TableWriter.FormatVersion or TableWriter.FormatVersion3))
        {
            throw new StorageCorruptionException(path, $"unsupported SSTable format version {version}");
        }

        var tailOffset = size - tail.Length;
        byte[] Block(int at, int lenAt)
        {
            var off = (long)BinaryPrimitives.ReadUInt64LittleEndian(tail.AsSpan(footerOffset + at));
            var len = (int)BinaryPrimitives.ReadUInt32LittleEndian(tail.AsSpan(footerOffset + lenAt));
            var rel = off - tailOffset;
            if (rel < 0 || rel + len > tail.Length - TableWriter.FooterSize)
            {
                throw new StorageCorruptionException(path, $"block at {off} outside the table tail");
            }

            return BlockCodec.Decode(tail.AsSpan((int)rel, len), path, off);
        }

        try
        {
            var indexPayload = Block(0, 8);
            var bloom = BloomFilter.Parse(Block(12, 20));
            var meta = TableMeta.Parse(Block(24, 32));
            var index = new List<BlockHandle>();
            var pos = 0;
            while (pos < indexPayload.Length)
            {
                var kl = (int)Varint.Read(indexPayload, ref pos);
                var key = indexPayload.AsSpan(pos, kl).ToArray();
                pos += kl;
                var off = (long)Varint.Read(indexPayload, ref pos);
                var len = (int)Varint.Read(indexPayload, ref pos);
                index.Add(new BlockHandle(key, off, len));
            }

            return new TableReader(id, cacheId ?? id, path, [.. index], bloom, meta, size, tailOffset, source, cache, magic);
        }
        catch (Exception e) when (e is FormatException or ArgumentOutOfRangeException or IndexOutOfRangeException)
        {
            throw new StorageCorruptionException(path, $"malformed metadata: {e.Message}");
        }
    }

    /// <summary>Replaces the data source (local → remote after archiving).</summary>
    public void SwitchSource(IBlockSource source)
    {
        // Reads in flight pinned the old source (AcquireSource); it closes when the last one ends,
        // so an archived table's deleted local file frees its space now, not when the table goes.
        Interlocked.Exchange(ref _source, source).Dispose();
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot path: skip tier-0 code
    public bool MayContain(ReadOnlySpan<byte> key, ulong hash)
        => KeyComparer.Compare(key, Meta.MinKey) >= 0 && KeyComparer.Compare(key, Meta.MaxKey) <= 0 && _bloom.MayContain(hash);

    public bool Overlaps(byte[] start, byte[] end)
        => Meta.EntryCount > 0
           && (end.Length == 0 || KeyComparer.Compare(Meta.MinKey, end) < 0)
           && KeyComparer.Compare(Meta.MaxKey, start) >= 0;

    /// <summary>Synchronous, allocation-free point lookup (tombstones included) for blocks that are
    /// cached or local; <see cref="BlockLookup.NeedsIo"/> means the block must come from object
    /// storage (use <see cref="GetAsync"/>). Call <see cref="MayContain"/> first.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot path: skip tier-0 code
    public BlockLookup TryGet(ReadOnlySpan<byte> key, out BlockEntry entry)
    {
        entry = default;
        var i = FindBlock(key);
        if (i < 0)
        {
            return BlockLookup.Absent;
        }

        var block = TryLoadBlockNow(i);
        if (block is null)
        {
            return BlockLookup.NeedsIo;
        }

        if (!block.TryFind(key, out entry))
        {
            return BlockLookup.Absent;
        }

        if (entry.BlobRef)
        {
            entry = entry with { Value = ResolveBlob(entry.Value.Span), BlobRef = false };
        }

        return BlockLookup.Found;
    }

    /// <summary>Point lookup (tombstones included). Call <see cref="MayContain"/> first.</summary>
    public async ValueTask<InternalEntry?> GetAsync(byte[] key, CancellationToken cancellationToken)
    {
        var i = FindBlock(key);
        if (i < 0)
        {
            return null;
        }

        var block = await LoadBlockAsync(i, cancellationToken).ConfigureAwait(false);
        if (!block.TryFind(key, out var e))
        {
            return null;
        }

        return new InternalEntry(key, e.BlobRef ? ResolveBlob(e.Value.Span) : e.Value.ToArray(), e.Version, e.ExpiresAtUnixMs, e.Tombstone);
    }

    /// <summary>Number of data blocks.</summary>
    internal int BlockCount => _index.Length;

    /// <summary>Where data block <paramref name="i"/> is in the file (its length includes the trailer).</summary>
    internal BlockHandle HandleOf(int i) => _index[i];

    /// <summary>Index of the first block that can hold a key ≥ <paramref name="key"/>, or -1 if none.</summary>
    internal int FindFirstBlock(ReadOnlySpan<byte> key) => FindBlock(key);

    /// <summary>Block <paramref name="i"/> if it can be had without waiting: cached, or read
    /// synchronously from a local file. Null when it must come from object storage.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot path: skip tier-0 code
    internal DataBlock? TryLoadBlockNow(int i)
    {
        var h = _index[i];
        if (_cache.TryGet(CacheId, h.Offset) is { } cached)
        {
            return cached;
        }

        var source = AcquireSource();
        byte[] raw;
        try
        {
            if (source.IsRemote)
            {
                return null;
            }

            var read = source.ReadAsync(h.Offset, h.Length, CancellationToken.None);
            raw = read.IsCompletedSuccessfully ? read.Result : read.AsTask().GetAwaiter().GetResult();
        }
        finally
        {
            source.Release();
        }

        var block = BlockCodec.DecodeDataBlock(raw, _path, h.Offset);
        _cache.Add(CacheId, h.Offset, block);
        return block;
    }

    /// <summary>Block <paramref name="i"/> for a one-pass reader (compaction) that must not fill
    /// the cache: the cached block if there is one, else read synchronously through
    /// <paramref name="readAhead"/> (the result is only valid until its next read). Null when it
    /// must come from object storage.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot path: skip tier-0 code
    internal DataBlock? TryLoadBlockUncached(int i, ReadAhead readAhead)
    {
        var h = _index[i];
        if (_cache.TryPeek(CacheId, h.Offset) is { } cached)
        {
            return cached;
        }

        var source = AcquireSource();
        try
        {
            return readAhead.TryRead(CacheId, source, h.Offset, h.Length, TailOffset) is { } buffer
                ? BlockCodec.DecodeDataBlock(buffer, h.Length, _path, h.Offset)
                : null;
        }
        finally
        {
            source.Release();
        }
    }

    /// <summary>Takes this table's references on the value files its entries point into (its meta's
    /// <see cref="TableMeta.BlobRefs"/>), released with the reader's last reference; pointers are resolved through
    /// <paramref name="blobs"/> from then on. Call once, before the reader is shared. A missing value file is
    /// corruption of this table.</summary>
    internal void AttachBlobs(Blobs.BlobSet blobs)
    {
        blobs.Acquire(Meta.BlobRefs, _path);
        _blobs = blobs;
    }

    /// <summary>Whether some entry of this table points into a value file.</summary>
    public bool HasBlobRefs => Meta.BlobRefs.Count > 0;

    /// <summary>The value an entry holding an encoded <see cref="Blobs.BlobPointer"/> stands for (read and verified);
    /// a reader resolving many pointers in key order passes its <paramref name="readAhead"/>.</summary>
    internal byte[] ResolveBlob(ReadOnlySpan<byte> pointer, Blobs.BlobReadAhead? readAhead = null)
    {
        var p = Blobs.BlobPointer.Decode(pointer, _path);
        return (_blobs ?? throw new StorageCorruptionException(_path, "table points into a value file but none is attached")).Read(p, _path, readAhead);
    }

    public bool TryRef() => RefCount.TryIncrement(ref _refs);

    public void Ref()
    {
        if (!TryRef())
        {
            throw new InvalidOperationException($"table {Id} already released");
        }
    }

    public void Unref()
    {
        if (Interlocked.Decrement(ref _refs) == 0)
        {
            _source.Dispose();
            Volatile.Read(ref _keys)?.Unref();

            _cache.Evict(CacheId);
            OnReleased?.Invoke(this);
            _blobs?.Release(Meta.BlobRefs); // after the table's own files: nothing points into the value files from here
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot path: skip tier-0 code
    private int FindBlock(ReadOnlySpan<byte> key)
    {
        int lo = 0, hi = _index.Length;
        while (lo < hi)
        {
            var mid = (lo + hi) / 2;
            if (KeyComparer.Compare(_index[mid].LastKey, key) < 0)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        return lo < _index.Length ? lo : -1;
    }

    internal async ValueTask<DataBlock> LoadBlockAsync(int i, CancellationToken cancellationToken)
    {
        var h = _index[i];
        if (_cache.TryGet(CacheId, h.Offset) is { } cached)
        {
            return cached;
        }

        var (raw, remote) = await ReadPinnedAsync(h, cancellationToken).ConfigureAwait(false);
        var block = BlockCodec.DecodeDataBlock(raw, _path, h.Offset);
        _cache.Add(CacheId, h.Offset, block, fromObjectStore: remote); // promoted: the next get of its keys needs no request
        return block;
    }

    /// <summary>The current source, pinned for one read (see <see cref="IBlockSource.TryAcquire"/>):
    /// a source switched out between the read of the field and the pin refuses, and the new one is taken.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot path: skip tier-0 code
    private IBlockSource AcquireSource()
    {
        while (true)
        {
            var source = Volatile.Read(ref _source);
            if (source.TryAcquire())
            {
                return source;
            }

            if (ReferenceEquals(source, Volatile.Read(ref _source)))
            {
                throw new ObjectDisposedException($"table {Id}", "the table was released while a read was starting");
            }
        }
    }

    /// <summary>Reads block <paramref name="h"/> from the current source; also says whether that source was the object store.</summary>
    private async ValueTask<(byte[] Raw, bool Remote)> ReadPinnedAsync(BlockHandle h, CancellationToken cancellationToken)
    {
        var source = AcquireSource();
        try
        {
            return (await source.ReadAsync(h.Offset, h.Length, cancellationToken).ConfigureAwait(false), source.IsRemote);
        }
        finally
        {
            source.Release();
        }
    }
}
