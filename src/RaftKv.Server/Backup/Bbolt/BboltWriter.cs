using System.Buffers.Binary;

namespace RaftKv.Server.Backup.Bbolt;

/// <summary>
/// Writes a bbolt database file — etcd's backend format (go.etcd.io/bbolt 1.3, the version etcd 3.4 and 3.5 use) — from
/// buckets whose items arrive in key order, bottom-up, each page written once, so that etcd's own tools open it
/// (<c>etcdctl snapshot status</c>, <c>etcdctl snapshot restore</c>, bbolt's consistency check).
/// </summary>
/// <remarks>
/// <para>Format (all integers little-endian, page size <see cref="PageSize"/>): page 0 and 1 are meta pages, page 2 an
/// empty freelist, data pages follow from page 3. Every page starts with a 16-byte header: <c>id u64, flags u16
/// (branch 0x01, leaf 0x02, meta 0x04, freelist 0x10), count u16, overflow u32</c> (the number of further contiguous
/// pages a node larger than one page spans). A leaf holds <c>count</c> 16-byte elements <c>flags u32 (0x01: the
/// value is a bucket), pos u32, ksize u32, vsize u32</c>, then the keys and values; a branch holds elements <c>pos u32,
/// ksize u32, pgid u64</c> (the child's first key and page), then the keys; <c>pos</c> is relative to the element's own
/// offset. The meta (after the header): <c>magic u32 0xED0CDAED, version u32 2, pageSize u32, flags u32, root bucket
/// (root pgid u64, sequence u64), freelist pgid u64, high-water pgid u64, txid u64, checksum u64</c> (FNV-1a 64 of the
/// 56 bytes before it). The root bucket maps each bucket name to a 16-byte bucket header <c>(root pgid u64, sequence
/// u64)</c>; every bucket here has a page of its own (none inline), an empty one an empty leaf. Every page below the
/// high-water mark is reachable (bbolt's check refuses an unreachable page that is not free).</para>
/// <para>Nodes are filled up to one page (bbolt itself splits at half a page; readers do not care); a single item
/// larger than a page gets a leaf of its own with overflow pages. Usage: <see cref="AddBucketAsync"/> per bucket, in
/// any order, then <see cref="Complete"/>. The output must be seekable (the meta pages, written last, come first).
/// Not thread-safe.</para>
/// </remarks>
public sealed class BboltWriter(Stream output)
{
    public const int PageSize = 4096;
    public const uint Magic = 0xED0CDAED;
    public const uint FormatVersion = 2;
    public const ushort BranchPage = 0x01, LeafPage = 0x02, MetaPage = 0x04, FreelistPage = 0x10;
    private const uint BucketLeafFlag = 0x01;
    private const int HeaderSize = 16, ElementSize = 16, FreelistPgid = 2;

    private readonly List<(byte[] Name, long Root)> _buckets = [];
    private long _nextPage = 3;

    /// <summary>Pages written so far (the high-water mark once complete).</summary>
    public long PageCount => _nextPage;

    /// <summary>Writes one bucket from its items, which must come in strictly increasing key order (bytewise).</summary>
    public async Task AddBucketAsync(byte[] name, IAsyncEnumerable<(byte[] Key, byte[] Value)> items, CancellationToken cancellationToken)
    {
        var level = new List<(byte[] FirstKey, long Page)>();
        var leaf = new List<(byte[] Key, byte[] Value, uint Flags)>();
        var size = HeaderSize;
        byte[]? last = null;
        await foreach (var (key, value) in items.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            if (last is not null && key.AsSpan().SequenceCompareTo(last) <= 0)
            {
                throw new InvalidOperationException("bbolt bucket items must come in increasing key order");
            }

            last = key;
            var itemSize = ElementSize + key.Length + value.Length;
            if (leaf.Count > 0 && size + itemSize > PageSize)
            {
                level.Add((leaf[0].Key, WriteLeaf(leaf)));
                leaf.Clear();
                size = HeaderSize;
            }

            leaf.Add((key, value, 0));
            size += itemSize;
        }

        if (leaf.Count > 0 || level.Count == 0)
        {
            level.Add((leaf.Count > 0 ? leaf[0].Key : [], WriteLeaf(leaf)));
        }

        _buckets.Add((name, WriteBranches(level)));
    }

    /// <summary>Writes the root bucket, the freelist and both meta pages; returns the file's length in bytes.</summary>
    public long Complete()
    {
        _buckets.Sort((a, b) => a.Name.AsSpan().SequenceCompareTo(b.Name));
        var entries = _buckets.Select(b =>
        {
            var header = new byte[16];
            BinaryPrimitives.WriteInt64LittleEndian(header, b.Root);
            return (b.Name, header, BucketLeafFlag);
        }).ToList();
        var root = WriteLeaf(entries);

        var freelist = new byte[PageSize];
        WritePageHeader(freelist, FreelistPgid, FreelistPage, 0, 0);
        WriteAt(FreelistPgid, freelist);
        var highWater = _nextPage;
        WriteAt(0, Meta(0, root, highWater, txid: 2));
        WriteAt(1, Meta(1, root, highWater, txid: 1));
        output.Flush();
        return highWater * PageSize;
    }

    private byte[] Meta(long id, long root, long highWater, long txid)
    {
        var page = new byte[PageSize];
        WritePageHeader(page, id, MetaPage, 0, 0);
        var m = page.AsSpan(HeaderSize);
        BinaryPrimitives.WriteUInt32LittleEndian(m, Magic);
        BinaryPrimitives.WriteUInt32LittleEndian(m[4..], FormatVersion);
        BinaryPrimitives.WriteUInt32LittleEndian(m[8..], PageSize);
        BinaryPrimitives.WriteUInt32LittleEndian(m[12..], 0);
        BinaryPrimitives.WriteInt64LittleEndian(m[16..], root);
        BinaryPrimitives.WriteUInt64LittleEndian(m[24..], 0);
        BinaryPrimitives.WriteInt64LittleEndian(m[32..], FreelistPgid);
        BinaryPrimitives.WriteInt64LittleEndian(m[40..], highWater);
        BinaryPrimitives.WriteInt64LittleEndian(m[48..], txid);
        BinaryPrimitives.WriteUInt64LittleEndian(m[56..], Fnv1a64(m[..56]));
        return page;
    }

    /// <summary>FNV-1a, 64 bits (Go's hash/fnv New64a), bbolt's meta checksum.</summary>
    public static ulong Fnv1a64(ReadOnlySpan<byte> data)
    {
        var h = 14695981039346656037UL;
        foreach (var b in data)
        {
            h = (h ^ b) * 1099511628211UL;
        }

        return h;
    }

    /// <summary>Branch levels above <paramref name="level"/> until one node remains; returns the root's page.</summary>
    private long WriteBranches(List<(byte[] FirstKey, long Page)> level)
    {
        while (level.Count > 1)
        {
            var parents = new List<(byte[] FirstKey, long Page)>();
            var node = new List<(byte[] Key, long Page)>();
            var size = HeaderSize;
            foreach (var child in level)
            {
                var itemSize = ElementSize + child.FirstKey.Length;
                if (node.Count > 0 && size + itemSize > PageSize)
                {
                    parents.Add((node[0].Key, WriteBranch(node)));
                    node.Clear();
                    size = HeaderSize;
                }

                node.Add(child);
                size += itemSize;
            }

            parents.Add((node[0].Key, WriteBranch(node)));
            level = parents;
        }

        return level[0].Page;
    }

    private long WriteLeaf(List<(byte[] Key, byte[] Value, uint Flags)> items)
    {
        var size = HeaderSize + (items.Count * ElementSize) + items.Sum(i => i.Key.Length + i.Value.Length);
        var (id, buffer) = Allocate(size, LeafPage, items.Count);
        var data = HeaderSize + (items.Count * ElementSize);
        for (var i = 0; i < items.Count; i++)
        {
            var at = HeaderSize + (i * ElementSize);
            var e = buffer.AsSpan(at);
            BinaryPrimitives.WriteUInt32LittleEndian(e, items[i].Flags);
            BinaryPrimitives.WriteUInt32LittleEndian(e[4..], (uint)(data - at));
            BinaryPrimitives.WriteUInt32LittleEndian(e[8..], (uint)items[i].Key.Length);
            BinaryPrimitives.WriteUInt32LittleEndian(e[12..], (uint)items[i].Value.Length);
            items[i].Key.CopyTo(buffer, data);
            items[i].Value.CopyTo(buffer, data + items[i].Key.Length);
            data += items[i].Key.Length + items[i].Value.Length;
        }

        WriteAt(id, buffer);
        return id;
    }

    private long WriteBranch(List<(byte[] Key, long Page)> children)
    {
        var size = HeaderSize + (children.Count * ElementSize) + children.Sum(c => c.Key.Length);
        var (id, buffer) = Allocate(size, BranchPage, children.Count);
        var data = HeaderSize + (children.Count * ElementSize);
        for (var i = 0; i < children.Count; i++)
        {
            var at = HeaderSize + (i * ElementSize);
            var e = buffer.AsSpan(at);
            BinaryPrimitives.WriteUInt32LittleEndian(e, (uint)(data - at));
            BinaryPrimitives.WriteUInt32LittleEndian(e[4..], (uint)children[i].Key.Length);
            BinaryPrimitives.WriteInt64LittleEndian(e[8..], children[i].Page);
            children[i].Key.CopyTo(buffer, data);
            data += children[i].Key.Length;
        }

        WriteAt(id, buffer);
        return id;
    }

    private (long Id, byte[] Buffer) Allocate(int size, ushort flags, int count)
    {
        if (count > ushort.MaxValue)
        {
            throw new InvalidOperationException("a bbolt node holds at most 65535 elements");
        }

        var pages = Math.Max(1, (size + PageSize - 1) / PageSize);
        var id = _nextPage;
        _nextPage += pages;
        var buffer = new byte[pages * PageSize];
        WritePageHeader(buffer, id, flags, (ushort)count, (uint)(pages - 1));
        return (id, buffer);
    }

    private static void WritePageHeader(Span<byte> page, long id, ushort flags, ushort count, uint overflow)
    {
        BinaryPrimitives.WriteInt64LittleEndian(page, id);
        BinaryPrimitives.WriteUInt16LittleEndian(page[8..], flags);
        BinaryPrimitives.WriteUInt16LittleEndian(page[10..], count);
        BinaryPrimitives.WriteUInt32LittleEndian(page[12..], overflow);
    }

    private void WriteAt(long page, byte[] buffer)
    {
        output.Position = page * PageSize;
        output.Write(buffer);
    }
}
