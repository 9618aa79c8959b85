using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using RaftKv.Storage.Blobs;
using RaftKv.Storage.IO;

namespace RaftKv.Storage.Tables;

/// <summary>
/// Writes one SSTable (FORMAT.md) from entries given in strictly increasing key order.
/// <see cref="Finish"/> fsyncs the file; the caller renames/links it into place and syncs the directory.
/// </summary>
public sealed class TableWriter : IDisposable
{
    public const ulong Magic = 0x3130545353564B52; // "RKVSST01"
    /// <summary>Format version written when a data block is Zstd-compressed (FORMAT.md).</summary>
    public const uint FormatVersion = 2;

    /// <summary>Format version written otherwise: the same layout, readable by releases that only
    /// know version 1 (no block uses compression kind 2).</summary>
    public const uint FormatVersion1 = 1;

    /// <summary>Format version written when some entry points into a value file (flags bit 1, meta block with value-file
    /// references; FORMAT.md): releases that know only versions 1 and 2 refuse the table instead of reading a pointer
    /// as the value.</summary>
    public const uint FormatVersion3 = 3;
    public const int FooterSize = 48;

    private readonly IWritableFile _file;
    private readonly ulong _magic;
    private readonly int _blockSize;
    private readonly BlockCompression _compression;
    private bool _usedVersion2Codec;
    private readonly DataBlockBuilder _block = new();
    private readonly List<BlockHandle> _index = [];
    private readonly List<ulong> _hashes = [];
    private byte[]? _minKey;
    private byte[] _maxKey = new byte[64];
    private int _maxKeyLength;
    private long _minIndex = long.MaxValue;
    private long _maxIndex;
    private long _count;
    private long _offset;
    private Dictionary<ulong, long>? _blobBytes; // value file id → bytes this table points at in it

    /// <summary>Creates the file. <paramref name="magic"/> names the file's role: <see cref="Magic"/>
    /// for a data table, <see cref="KeysFile.Magic"/> for an archived table's keys file.</summary>
    public TableWriter(IFileSystem fs, string path, int blockSize, BlockCompression compression, ulong magic = Magic)
    {
        _file = fs.Create(path);
        _magic = magic;
        _blockSize = blockSize;
        _compression = compression;
    }

    /// <summary>The compression of data blocks (index, bloom and meta blocks are never compressed).</summary>
    public BlockCompression Compression => _compression;

    public long EntryCount => _count;

    /// <summary>Bytes written so far (approximate, for splitting outputs).</summary>
    public long EstimatedSize => _offset + _block.EstimatedSize;

    public void Add(InternalEntry entry) => Add(entry.Key, entry.Value, entry.Version, entry.ExpiresAtUnixMs, entry.Tombstone);

    /// <summary>Adds one entry; keys must be strictly increasing. The spans are copied. With <paramref name="blobRef"/>,
    /// <paramref name="value"/> is an encoded <see cref="BlobPointer"/> (the table then records the value file).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot path: skip tier-0 code
    public void Add(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, long version, long expiresAtUnixMs, bool tombstone, bool blobRef = false)
    {
        if (_count > 0 && KeyComparer.Compare(key, _maxKey.AsSpan(0, _maxKeyLength)) <= 0)
        {
            throw new InvalidOperationException("keys must be added in strictly increasing order");
        }

        _minKey ??= key.ToArray();
        if (_maxKey.Length < key.Length)
        {
            _maxKey = new byte[Math.Max(key.Length, _maxKey.Length * 2)];
        }

        key.CopyTo(_maxKey);
        _maxKeyLength = key.Length;
        _minIndex = Math.Min(_minIndex, version);
        _maxIndex = Math.Max(_maxIndex, version);
        _hashes.Add(BloomFilter.Hash(key));
        if (blobRef)
        {
            var p = BlobPointer.Decode(value, "(table being written)");
            _blobBytes ??= [];
            _blobBytes[p.FileId] = _blobBytes.GetValueOrDefault(p.FileId) + p.Length;
        }

        _block.Add(key, value, version, expiresAtUnixMs, tombstone, blobRef);
        _count++;
        if (_block.EstimatedSize >= _blockSize)
        {
            FlushBlock();
        }
    }

    /// <summary>Writes index, bloom, meta and footer, fsyncs, and returns the table's meta and size.</summary>
    public (TableMeta Meta, long Size) Finish(long createdUnixMs)
    {
        var result = FinishWithoutSync(createdUnixMs);
        _file.Sync();
        return result;
    }

    /// <summary>As <see cref="Finish"/> without the fsync: nothing may read the table or count it as written
    /// until <see cref="Sync"/> has returned (the last bytes may still sit in the file's buffer). After this
    /// call the writer takes no more entries, so <see cref="Sync"/> and <see cref="Dispose"/> may run on
    /// another thread.</summary>
    public (TableMeta Meta, long Size) FinishWithoutSync(long createdUnixMs)
    {
        if (!_block.IsEmpty)
        {
            FlushBlock();
        }

        var index = new List<byte>(_index.Count * 32);
        foreach (var h in _index)
        {
            Varint.Write(index, (ulong)h.LastKey.Length);
            index.AddRange(h.LastKey);
            Varint.Write(index, (ulong)h.Offset);
            Varint.Write(index, (ulong)h.Length);
        }

        var meta = new TableMeta(_count, _count == 0 ? 0 : _minIndex, _maxIndex, createdUnixMs, _minKey ?? [], _maxKey.AsSpan(0, _maxKeyLength).ToArray())
        {
            BlobRefs = _blobBytes is null ? [] : [.. _blobBytes.OrderBy(b => b.Key).Select(b => new BlobRef(b.Key, b.Value))],
        };
        var indexHandle = WriteBlock(index.ToArray(), BlockCompression.None);
        var bloomHandle = WriteBlock(BloomFilter.Build(_hashes).Serialize(), BlockCompression.None);
        var metaHandle = WriteBlock(meta.Serialize(), BlockCompression.None);

        Span<byte> footer = stackalloc byte[FooterSize];
        BinaryPrimitives.WriteUInt64LittleEndian(footer, (ulong)indexHandle.Offset);
        BinaryPrimitives.WriteUInt32LittleEndian(footer[8..], (uint)indexHandle.Length);
        BinaryPrimitives.WriteUInt64LittleEndian(footer[12..], (ulong)bloomHandle.Offset);
        BinaryPrimitives.WriteUInt32LittleEndian(footer[20..], (uint)bloomHandle.Length);
        BinaryPrimitives.WriteUInt64LittleEndian(footer[24..], (ulong)metaHandle.Offset);
        BinaryPrimitives.WriteUInt32LittleEndian(footer[32..], (uint)metaHandle.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(footer[36..], _blobBytes is not null ? FormatVersion3 : _usedVersion2Codec ? FormatVersion : FormatVersion1);
        BinaryPrimitives.WriteUInt64LittleEndian(footer[40..], _magic);
        _file.Append(footer);
        _offset += FooterSize;
        return (meta, _offset);
    }

    /// <summary>Writes what is buffered and fsyncs the file (after <see cref="FinishWithoutSync"/>).</summary>
    public void Sync() => _file.Sync();

    public void Dispose() => _file.Dispose();

    private void FlushBlock()
    {
        var last = _block.LastKey.ToArray();
        var h = WriteBlock(_block.Finish(), _compression);
        _index.Add(h with { LastKey = last });
    }

    private BlockHandle WriteBlock(ReadOnlySpan<byte> payload, BlockCompression compression)
    {
        var length = BlockCodec.Write(payload, compression, _file, out var used);
        _usedVersion2Codec |= used == BlockCompression.Zstd;
        var h = new BlockHandle([], _offset, length);
        _offset += length;
        return h;
    }
}
