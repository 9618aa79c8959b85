using System.Buffers.Binary;
using RaftKv.Replication.Backup;
using RaftKv.Server.Backup.Bbolt;

namespace RaftKv.Server.Tests.Backup;

/// <summary>
/// <see cref="BboltReader"/> on files <see cref="BboltWriter"/> writes (a tree of several levels, a value spanning
/// overflow pages, an empty bucket), on an inline bucket (built by hand: etcd's small buckets are inline), and on
/// damaged files (refused with <see cref="SnapshotFileException"/>, never an index error).
/// </summary>
public sealed class BboltReaderTests
{
    [Fact]
    public async Task ReadsBackWhatTheWriterWroteInKeyOrder()
    {
        var seed = Environment.TickCount;
        var random = new Random(seed);
        var items = Enumerable.Range(0, 20_000)
            .Select(i => (Key: System.Text.Encoding.ASCII.GetBytes($"k/{i:D6}"), Value: RandomBytes(random, i == 777 ? 30_000 : random.Next(0, 300))))
            .ToList();
        using var file = new MemoryStream();
        var writer = new BboltWriter(file);
        await writer.AddBucketAsync("key"u8.ToArray(), items.ToAsyncEnumerable(), CancellationToken.None);
        await writer.AddBucketAsync("empty"u8.ToArray(), AsyncEnumerable.Empty<(byte[], byte[])>(), CancellationToken.None);
        await writer.AddBucketAsync("lease"u8.ToArray(), new[] { ("l"u8.ToArray(), "v"u8.ToArray()) }.ToAsyncEnumerable(), CancellationToken.None);
        var length = writer.Complete();

        var reader = new BboltReader(file);
        Assert.Equal(length, reader.HighWater * reader.PageSize);
        Assert.Equal(["empty", "key", "lease"], reader.BucketNames().Select(n => System.Text.Encoding.ASCII.GetString(n)));
        var read = reader.Bucket("key"u8)!.ToList();
        Assert.True(items.Count == read.Count, $"seed {seed}");
        for (var i = 0; i < items.Count; i++)
        {
            Assert.True(items[i].Key.AsSpan().SequenceEqual(read[i].Key) && items[i].Value.AsSpan().SequenceEqual(read[i].Value), $"item {i}, seed {seed}");
        }

        Assert.Empty(reader.Bucket("empty"u8)!);
        Assert.Single(reader.Bucket("lease"u8)!);
        Assert.Null(reader.Bucket("nope"u8));
    }

    [Fact]
    public void ReadsAnInlineBucket()
    {
        using var file = new MemoryStream(InlineBucketFile([("a", "1"), ("b", "22")]));
        var items = new BboltReader(file).Bucket("meta"u8)!.Select(i => (System.Text.Encoding.ASCII.GetString(i.Key), System.Text.Encoding.ASCII.GetString(i.Value)));
        Assert.Equal([("a", "1"), ("b", "22")], items);
    }

    [Fact]
    public async Task RefusesDamagedFiles()
    {
        using var file = new MemoryStream();
        var writer = new BboltWriter(file);
        var items = Enumerable.Range(0, 3000).Select(i => (System.Text.Encoding.ASCII.GetBytes($"k{i:D5}"), new byte[100])).ToList();
        await writer.AddBucketAsync("key"u8.ToArray(), items.ToAsyncEnumerable(), CancellationToken.None);
        writer.Complete();
        var good = file.ToArray();

        var truncated = new MemoryStream(good[..(good.Length / 2)]);
        Assert.Equal(SnapshotFileError.Truncated, Assert.Throws<SnapshotFileException>(() => new BboltReader(truncated)).Error);

        var noMeta = (byte[])good.Clone();
        noMeta[16] ^= 1; // page 0's magic
        noMeta[BboltWriter.PageSize + 16] ^= 1; // page 1's
        Assert.Equal(SnapshotFileError.Corrupt, Assert.Throws<SnapshotFileException>(() => new BboltReader(new MemoryStream(noMeta))).Error);

        var wrongPage = (byte[])good.Clone();
        wrongPage[(5 * BboltWriter.PageSize) + 0] ^= 0x7F; // a data page's header names another page
        var reader = new BboltReader(new MemoryStream(wrongPage));
        Assert.Equal(SnapshotFileError.Corrupt, Assert.Throws<SnapshotFileException>(() => reader.Bucket("key"u8)!.ToList()).Error);

        var badElement = (byte[])good.Clone();
        BinaryPrimitives.WriteUInt32LittleEndian(badElement.AsSpan((4 * BboltWriter.PageSize) + 16 + 4), 1_000_000); // an element's pos
        reader = new BboltReader(new MemoryStream(badElement));
        Assert.Equal(SnapshotFileError.Corrupt, Assert.Throws<SnapshotFileException>(() => reader.Bucket("key"u8)!.ToList()).Error);
    }

    /// <summary>Meta pages 0 and 1, freelist page 2, root leaf page 3 holding bucket "meta" inline (root pgid 0, its
    /// leaf page in the value), as bbolt writes a small bucket.</summary>
    private static byte[] InlineBucketFile((string Key, string Value)[] items)
    {
        const int ps = BboltWriter.PageSize;
        var file = new byte[4 * ps];
        var inline = Leaf(items.Select(i => (System.Text.Encoding.ASCII.GetBytes(i.Key), System.Text.Encoding.ASCII.GetBytes(i.Value), 0u)).ToList());
        var bucketValue = new byte[16 + inline.Length]; // root pgid 0, sequence 0, then the page
        inline.CopyTo(bucketValue, 16);
        var root = Leaf([("meta"u8.ToArray(), bucketValue, 1u)]);
        BinaryPrimitives.WriteInt64LittleEndian(root, 3);
        root.CopyTo(file, 3 * ps);
        for (var id = 0; id < 2; id++)
        {
            var page = file.AsSpan(id * ps, ps);
            BinaryPrimitives.WriteInt64LittleEndian(page, id);
            BinaryPrimitives.WriteUInt16LittleEndian(page[8..], BboltWriter.MetaPage);
            var m = page[16..];
            BinaryPrimitives.WriteUInt32LittleEndian(m, BboltWriter.Magic);
            BinaryPrimitives.WriteUInt32LittleEndian(m[4..], BboltWriter.FormatVersion);
            BinaryPrimitives.WriteUInt32LittleEndian(m[8..], ps);
            BinaryPrimitives.WriteInt64LittleEndian(m[16..], 3); // root bucket's page
            BinaryPrimitives.WriteInt64LittleEndian(m[32..], 2); // freelist
            BinaryPrimitives.WriteInt64LittleEndian(m[40..], 4); // high water
            BinaryPrimitives.WriteInt64LittleEndian(m[48..], id + 1); // txid
            BinaryPrimitives.WriteUInt64LittleEndian(m[56..], BboltWriter.Fnv1a64(m[..56]));
        }

        BinaryPrimitives.WriteInt64LittleEndian(file.AsSpan(2 * ps), 2);
        BinaryPrimitives.WriteUInt16LittleEndian(file.AsSpan((2 * ps) + 8), BboltWriter.FreelistPage);
        return file;
    }

    /// <summary>A leaf node (page header, elements, then keys and values), exactly as long as its content.</summary>
    private static byte[] Leaf(List<(byte[] Key, byte[] Value, uint Flags)> items)
    {
        var page = new byte[16 + (items.Count * 16) + items.Sum(i => i.Key.Length + i.Value.Length)];
        BinaryPrimitives.WriteUInt16LittleEndian(page.AsSpan(8), BboltWriter.LeafPage);
        BinaryPrimitives.WriteUInt16LittleEndian(page.AsSpan(10), (ushort)items.Count);
        var data = 16 + (items.Count * 16);
        for (var i = 0; i < items.Count; i++)
        {
            var at = 16 + (i * 16);
            BinaryPrimitives.WriteUInt32LittleEndian(page.AsSpan(at), items[i].Flags);
            BinaryPrimitives.WriteUInt32LittleEndian(page.AsSpan(at + 4), (uint)(data - at));
            BinaryPrimitives.WriteUInt32LittleEndian(page.AsSpan(at + 8), (uint)items[i].Key.Length);
            BinaryPrimitives.WriteUInt32LittleEndian(page.AsSpan(at + 12), (uint)items[i].Value.Length);
            items[i].Key.CopyTo(page, data);
            items[i].Value.CopyTo(page, data + items[i].Key.Length);
            data += items[i].Key.Length + items[i].Value.Length;
        }

        return page;
    }

    private static byte[] RandomBytes(Random random, int length)
    {
        var b = new byte[length];
        random.NextBytes(b);
        return b;
    }
}
