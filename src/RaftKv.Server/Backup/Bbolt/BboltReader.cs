using System.Buffers.Binary;
using RaftKv.Replication.Backup;

namespace RaftKv.Server.Backup.Bbolt;

/// <summary>
/// Reads a bbolt database file (the format <see cref="BboltWriter"/> documents; go.etcd.io/bbolt 1.3, etcd 3.4/3.5's
/// backend): the newest valid meta page (magic, version 2, FNV-1a checksum; the higher txid of the two), the root
/// bucket, and any top-level bucket's items in key order.
/// </summary>
/// <remarks>
/// <para>Buckets: a bucket's value in its parent is a 16-byte header <c>(root pgid u64, sequence u64)</c>; root pgid
/// 0 means an INLINE bucket (bbolt's choice for a small bucket): its leaf page, header included, follows the header in
/// the value. Nodes are walked depth-first (branch 0x01, leaf 0x02); a node spans <c>1 + overflow</c> pages.</para>
/// <para>Every structural fault — a page beyond the high-water mark or the file's end, a page whose header names
/// another page or an unexpected type, an element outside its page, a tree deeper than 64 levels — throws
/// <see cref="SnapshotFileException"/> (<see cref="SnapshotFileError.Truncated"/> for a page past the file's end,
/// <see cref="SnapshotFileError.Corrupt"/> otherwise), never an index error. Free pages are not read. Not
/// thread-safe; the stream must be seekable and stay open while items are enumerated.</para>
/// </remarks>
public sealed class BboltReader
{
    private const int HeaderSize = 16, ElementSize = 16, BucketHeaderSize = 16, MaxDepth = 64;
    private const uint BucketLeafFlag = 0x01;
    private readonly Stream _file;
    private readonly long _root;

    /// <exception cref="SnapshotFileException">No valid meta page.</exception>
    public BboltReader(Stream file)
    {
        _file = file;
        (long TxId, long Root, long HighWater, int PageSize)? best = null;
        for (var i = 0; i < 2; i++)
        {
            var at = i == 0 ? 0L : best?.PageSize ?? BboltWriter.PageSize; // meta page 1 follows page 0 (bbolt: the OS page size when page 0 is bad)
            if (at + HeaderSize + 64 > file.Length)
            {
                continue;
            }

            var page = new byte[HeaderSize + 64];
            file.Position = at;
            file.ReadExactly(page);
            var m = page.AsSpan(HeaderSize);
            if (BinaryPrimitives.ReadUInt16LittleEndian(page.AsSpan(8)) != BboltWriter.MetaPage
                || BinaryPrimitives.ReadUInt32LittleEndian(m) != BboltWriter.Magic
                || BinaryPrimitives.ReadUInt32LittleEndian(m[4..]) != BboltWriter.FormatVersion
                || BinaryPrimitives.ReadUInt64LittleEndian(m[56..]) != BboltWriter.Fnv1a64(m[..56]))
            {
                continue;
            }

            var pageSize = (int)BinaryPrimitives.ReadUInt32LittleEndian(m[8..]);
            var txid = BinaryPrimitives.ReadInt64LittleEndian(m[48..]);
            if ((pageSize is >= 1024 and <= 1 << 16) && (best is null || txid > best.Value.TxId))
            {
                best = (txid, BinaryPrimitives.ReadInt64LittleEndian(m[16..]), BinaryPrimitives.ReadInt64LittleEndian(m[40..]), pageSize);
            }
        }

        if (best is not { } b)
        {
            throw new SnapshotFileException(SnapshotFileError.Corrupt, "not a bbolt database: no valid meta page (magic, version or checksum)");
        }

        PageSize = b.PageSize;
        HighWater = b.HighWater;
        TxId = b.TxId;
        _root = b.Root;
        if (HighWater * PageSize > file.Length)
        {
            throw new SnapshotFileException(SnapshotFileError.Truncated, $"the bbolt database is cut short: its meta page says {HighWater * PageSize} bytes, the file has {file.Length}");
        }
    }

    public int PageSize { get; }

    /// <summary>The high-water page id (pages in use: the database's length is this × <see cref="PageSize"/>).</summary>
    public long HighWater { get; }

    /// <summary>The transaction id of the meta page read.</summary>
    public long TxId { get; }

    /// <summary>The names of the top-level buckets, in key order.</summary>
    public IEnumerable<byte[]> BucketNames() => Walk(Page(_root), 0).Where(e => (e.Flags & BucketLeafFlag) != 0).Select(e => e.Key);

    /// <summary>The items of the top-level bucket <paramref name="name"/> in key order (nested buckets are listed
    /// with their 16-byte header as the value), or null when there is no such bucket.</summary>
    public IEnumerable<(byte[] Key, byte[] Value)>? Bucket(ReadOnlySpan<byte> name)
    {
        foreach (var e in Walk(Page(_root), 0))
        {
            if ((e.Flags & BucketLeafFlag) != 0 && name.SequenceEqual(e.Key))
            {
                return Items(e.Value);
            }
        }

        return null;
    }

    private IEnumerable<(byte[] Key, byte[] Value)> Items(byte[] bucketValue)
    {
        if (bucketValue.Length < BucketHeaderSize)
        {
            throw Corrupt("a bucket header shorter than 16 bytes");
        }

        var root = BinaryPrimitives.ReadInt64LittleEndian(bucketValue);
        var node = root == 0 ? bucketValue[BucketHeaderSize..] : Page(root);
        if (root == 0 && node.Length < HeaderSize)
        {
            throw Corrupt("an inline bucket without a page");
        }

        return Walk(node, 0).Select(e => (e.Key, e.Value));
    }

    private IEnumerable<(uint Flags, byte[] Key, byte[] Value)> Walk(byte[] node, int depth)
    {
        if (depth > MaxDepth)
        {
            throw Corrupt("a B+tree deeper than 64 levels (a cycle?)");
        }

        var flags = BinaryPrimitives.ReadUInt16LittleEndian(node.AsSpan(8));
        var count = BinaryPrimitives.ReadUInt16LittleEndian(node.AsSpan(10));
        if (HeaderSize + (count * ElementSize) > node.Length)
        {
            throw Corrupt($"a node of {count} elements overflows its page");
        }

        for (var i = 0; i < count; i++)
        {
            var at = HeaderSize + (i * ElementSize);
            var e = node.AsSpan(at, ElementSize);
            if (flags == BboltWriter.LeafPage)
            {
                var pos = at + (long)BinaryPrimitives.ReadUInt32LittleEndian(e[4..]);
                var ksize = BinaryPrimitives.ReadUInt32LittleEndian(e[8..]);
                var vsize = BinaryPrimitives.ReadUInt32LittleEndian(e[12..]);
                if (pos + ksize + vsize > node.Length)
                {
                    throw Corrupt("a leaf element outside its page");
                }

                yield return (BinaryPrimitives.ReadUInt32LittleEndian(e), node.AsSpan((int)pos, (int)ksize).ToArray(), node.AsSpan((int)(pos + ksize), (int)vsize).ToArray());
            }
            else if (flags == BboltWriter.BranchPage)
            {
                var pos = at + (long)BinaryPrimitives.ReadUInt32LittleEndian(e);
                var ksize = BinaryPrimitives.ReadUInt32LittleEndian(e[4..]);
                if (pos + ksize > node.Length)
                {
                    throw Corrupt("a branch element outside its page");
                }

                foreach (var child in Walk(Page(BinaryPrimitives.ReadInt64LittleEndian(e[8..])), depth + 1))
                {
                    yield return child;
                }
            }
            else
            {
                throw Corrupt($"a B+tree node of page type 0x{flags:x2}");
            }
        }
    }

    /// <summary>Page <paramref name="id"/> and its overflow pages.</summary>
    private byte[] Page(long id)
    {
        if (id < 2 || id >= HighWater)
        {
            throw Corrupt($"page {id} is outside the database (pages 2 to {HighWater - 1})");
        }

        var head = new byte[HeaderSize];
        _file.Position = id * PageSize;
        _file.ReadExactly(head);
        var overflow = BinaryPrimitives.ReadUInt32LittleEndian(head.AsSpan(12));
        if (BinaryPrimitives.ReadInt64LittleEndian(head) != id)
        {
            throw Corrupt($"page {id}'s header names page {BinaryPrimitives.ReadInt64LittleEndian(head)}");
        }

        if (id + 1 + overflow > HighWater)
        {
            throw Corrupt($"page {id} spans past the high-water mark");
        }

        var page = new byte[(1 + overflow) * PageSize];
        head.CopyTo(page, 0);
        _file.ReadExactly(page.AsSpan(HeaderSize));
        return page;
    }

    private static SnapshotFileException Corrupt(string what) => new(SnapshotFileError.Corrupt, $"the bbolt database is damaged: {what}");
}
