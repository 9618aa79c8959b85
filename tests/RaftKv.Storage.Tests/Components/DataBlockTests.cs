using RaftKv.Storage.Tables;
using RaftKv.TestSupport.IO;
using static RaftKv.Storage.Tests.Helpers;

namespace RaftKv.Storage.Tests.Components;

public sealed class DataBlockTests
{
    /// <summary>Encodes a payload the way table files hold it (optionally LZ4, then kind + CRC32C trailer).</summary>
    private static byte[] Encode(ReadOnlySpan<byte> payload, bool compress)
    {
        var fs = new CrashableMemoryFileSystem();
        fs.CreateDirectory("/b");
        using (var f = fs.Create("/b/block"))
        {
            BlockCodec.Write(payload, compress, f);
            f.Sync();
        }

        using var r = fs.OpenRead("/b/block");
        var bytes = new byte[fs.GetLength("/b/block")];
        r.ReadExactly(0, bytes);
        return bytes;
    }

    private static DataBlock Build(IEnumerable<InternalEntry> entries, bool compress = false)
    {
        var builder = new DataBlockBuilder();
        foreach (var e in entries)
        {
            builder.Add(e);
        }

        return new DataBlock(BlockCodec.Decode(Encode(builder.Finish(), compress), "test.sst", 0), "test.sst");
    }

    private static List<InternalEntry> Keys(int n) =>
        Enumerable.Range(0, n).Select(i => new InternalEntry(B($"user/{i:D5}"), B($"value-{i}"), i + 1, i % 3 == 0 ? 1_000 + i : 0, i % 7 == 0)).ToList();

    [Theory]
    [InlineData(1, false)]
    [InlineData(15, false)]
    [InlineData(16, false)]
    [InlineData(17, true)]
    [InlineData(200, true)]
    public void EveryEntryIsFoundWithEveryFieldAcrossRestartPoints(int count, bool compress)
    {
        var entries = Keys(count);
        var block = Build(entries, compress);
        foreach (var e in entries)
        {
            Assert.Equal(P(e), P(block.Find(e.Key)));
            Assert.True(block.TryFind(e.Key, out var slice));
            Assert.Equal(e.Value, slice.Value.ToArray());
            Assert.Equal((e.Version, e.ExpiresAtUnixMs, e.Tombstone), (slice.Version, slice.ExpiresAtUnixMs, slice.Tombstone));
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void DataBlocksDecodeInPlaceAndStillVerifyTheirChecksum(bool compress)
    {
        var entries = Keys(100);
        var builder = new DataBlockBuilder();
        entries.ForEach(builder.Add);
        var encoded = Encode(builder.Finish(), compress);
        var block = BlockCodec.DecodeDataBlock(encoded.ToArray(), "test.sst", 0);
        Assert.All(entries, e => Assert.Equal(P(e), P(block.Find(e.Key))));
        Assert.Null(block.Find(B("user/00010x")));
        for (var i = 0; i < encoded.Length; i += 7)
        {
            var bad = encoded.ToArray();
            bad[i] ^= 0x10;
            Assert.Throws<StorageCorruptionException>(() => BlockCodec.DecodeDataBlock(bad, "test.sst", 0));
        }
    }

    [Fact]
    public void FindMissesBetweenBeforeAndAfterKeys()
    {
        var block = Build(Keys(50));
        Assert.Null(block.Find(B("user/00010x")));
        Assert.Null(block.Find(B("a")));
        Assert.Null(block.Find(B("zzz")));
        Assert.False(block.TryFind(B("user/00010x"), out _));
    }

    [Fact]
    public void PrefixCompressionHandlesBinaryKeysWithZeroAndFfBytes()
    {
        byte[][] keys = [[0x00], [0x00, 0x00], [0x00, 0xFF], [0x00, 0xFF, 0x00], [0x7F], [0xFF], [0xFF, 0xFF]];
        var entries = keys.Select((k, i) => new InternalEntry(k, [(byte)i], i + 1, 0, false)).ToList();
        var block = Build(entries);
        Assert.All(entries, e => Assert.Equal(P(e), P(block.Find(e.Key))));
        Assert.Null(block.Find([0x00, 0xFE]));
    }

    [Fact]
    public void EveryFlippedByteIsDetectedByTheChecksum()
    {
        var builder = new DataBlockBuilder();
        foreach (var e in Keys(20))
        {
            builder.Add(e);
        }

        var bytes = Encode(builder.Finish(), compress: false);
        for (var i = 0; i < bytes.Length; i++)
        {
            var copy = (byte[])bytes.Clone();
            copy[i] ^= 0x40;
            var e = Assert.Throws<StorageCorruptionException>(() => BlockCodec.Decode(copy, "tables/000042.sst", 4096));
            Assert.Contains("000042.sst", e.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void CompressionShrinksRepetitiveBlocks()
    {
        var payload = Enumerable.Repeat((byte)'a', 8192).ToArray();
        var plain = Encode(payload, compress: false);
        var packed = Encode(payload, compress: true);
        Assert.True(packed.Length < plain.Length / 4, $"LZ4 gave {packed.Length} bytes for 8 KiB of 'a'");
        Assert.Equal(payload, BlockCodec.Decode(packed, "x", 0));
    }
}
