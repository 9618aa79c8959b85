using System.Buffers.Binary;
using RaftKv.Storage.IO;

namespace RaftKv.Storage.Tables;

/// <summary>
/// Writes one SSTable (FORMAT.md) from entries given in strictly increasing key order.
/// <see cref="Finish"/> fsyncs the file; the caller renames/links it into place and syncs the directory.
/// </summary>
public sealed class TableWriter : IDisposable
{
    public const ulong Magic = 0x3130545353564B52; // "RKVSST01"
    public const uint FormatVersion = 1;
    public const int FooterSize = 48;

    private readonly IWritableFile _file;
    private readonly int _blockSize;
    private readonly bool _compress;
    private readonly DataBlockBuilder _block = new();
    private readonly List<BlockHandle> _index = [];
    private readonly List<ulong> _hashes = [];
    private readonly List<byte> _out = new(1 << 16);
    private byte[]? _minKey;
    private byte[] _maxKey = [];
    private long _minIndex = long.MaxValue;
    private long _maxIndex;
    private long _count;
    private long _offset;

    public TableWriter(IFileSystem fs, string path, int blockSize, bool compress)
    {
        _file = fs.Create(path);
        _blockSize = blockSize;
        _compress = compress;
    }

    public long EntryCount => _count;

    /// <summary>Bytes written so far (approximate, for splitting outputs).</summary>
    public long EstimatedSize => _offset + _block.EstimatedSize;

    public void Add(InternalEntry entry)
    {
        if (_count > 0 && KeyComparer.Compare(entry.Key, _maxKey) <= 0)
        {
            throw new InvalidOperationException("keys must be added in strictly increasing order");
        }

        _minKey ??= entry.Key;
        _maxKey = entry.Key;
        _minIndex = Math.Min(_minIndex, entry.Version);
        _maxIndex = Math.Max(_maxIndex, entry.Version);
        _hashes.Add(BloomFilter.Hash(entry.Key));
        _block.Add(entry);
        _count++;
        if (_block.EstimatedSize >= _blockSize)
        {
            FlushBlock();
        }
    }

    /// <summary>Writes index, bloom, meta and footer, fsyncs, and returns the table's meta and size.</summary>
    public (TableMeta Meta, long Size) Finish(long createdUnixMs)
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

        var meta = new TableMeta(_count, _count == 0 ? 0 : _minIndex, _maxIndex, createdUnixMs, _minKey ?? [], _maxKey);
        var indexHandle = WriteBlock(index.ToArray(), compress: false);
        var bloomHandle = WriteBlock(BloomFilter.Build(_hashes).Serialize(), compress: false);
        var metaHandle = WriteBlock(meta.Serialize(), compress: false);

        Span<byte> footer = stackalloc byte[FooterSize];
        BinaryPrimitives.WriteUInt64LittleEndian(footer, (ulong)indexHandle.Offset);
        BinaryPrimitives.WriteUInt32LittleEndian(footer[8..], (uint)indexHandle.Length);
        BinaryPrimitives.WriteUInt64LittleEndian(footer[12..], (ulong)bloomHandle.Offset);
        BinaryPrimitives.WriteUInt32LittleEndian(footer[20..], (uint)bloomHandle.Length);
        BinaryPrimitives.WriteUInt64LittleEndian(footer[24..], (ulong)metaHandle.Offset);
        BinaryPrimitives.WriteUInt32LittleEndian(footer[32..], (uint)metaHandle.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(footer[36..], FormatVersion);
        BinaryPrimitives.WriteUInt64LittleEndian(footer[40..], Magic);
        _file.Append(footer);
        _offset += FooterSize;
        _file.Sync();
        return (meta, _offset);
    }

    public void Dispose() => _file.Dispose();

    private void FlushBlock()
    {
        var last = _block.LastKey;
        var h = WriteBlock(_block.FinishInPlace(), _compress);
        _block.Reset();
        _index.Add(h with { LastKey = last });
    }

    private BlockHandle WriteBlock(ReadOnlySpan<byte> payload, bool compress)
    {
        if (!compress)
        {
            // Uncompressed: payload and trailer go straight to the file (no staging copy).
            Span<byte> trailer = stackalloc byte[BlockCodec.TrailerSize];
            trailer[0] = 0;
            BinaryPrimitives.WriteUInt32LittleEndian(trailer[1..], Crc32C.Compute(payload, trailer[..1]));
            _file.Append(payload);
            _file.Append(trailer);
            var plain = new BlockHandle([], _offset, payload.Length + trailer.Length);
            _offset += plain.Length;
            return plain;
        }

        _out.Clear();
        BlockCodec.Encode(payload, compress, _out);
        var span = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_out);
        _file.Append(span);
        var h = new BlockHandle([], _offset, span.Length);
        _offset += span.Length;
        return h;
    }
}
