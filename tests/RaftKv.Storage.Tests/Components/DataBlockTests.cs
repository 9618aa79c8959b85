using RaftKv.Storage.Tables;
using static RaftKv.Storage.Tests.Helpers;

namespace RaftKv.Storage.Tests.Components;

public sealed class DataBlockTests
{
    private static DataBlock Build(IEnumerable<InternalEntry> entries, bool compress = false)
    {
        var builder = new DataBlockBuilder();
        foreach (var e in entries)
        {
            builder.Add(e);
        }

        var encoded = new List<byte>();
        BlockCodec.Encode(builder.Finish(), compress, encoded);
        return new DataBlock(BlockCodec.Decode(encoded.ToArray(), "test.sst", 0), "test.sst");
    }

    private static List<InternalEntry> Keys(int n) =>
        Enumerable.Range(0, n).Select(i => new InternalEntry(B($"user/{i:D5}"), B($"value-{i}"), i + 1, i % 3 == 0 ? 1_000 + i : 0, i % 7 == 0)).ToList();

    [Theory]
    [InlineData(1, false)]
    [InlineData(15, false)]
    [InlineData(16, false)]
    [InlineData(17, true)]
    [InlineData(200, true)]
    public void RoundTripKeepsEveryFieldAcrossRestartPoints(int count, bool compress)
    {
        var entries = Keys(count);
        var block = Build(entries, compress);
        Assert.Equal(entries.Select(P), block.All().Select(P));
        foreach (var e in entries)
        {
            Assert.Equal(P(e), P(block.Find(e.Key)));
        }
    }

    [Fact]
    public void FindMissesBetweenBeforeAndAfterKeys()
    {
        var block = Build(Keys(50));
        Assert.Null(block.Find(B("user/00010x")));
        Assert.Null(block.Find(B("a")));
        Assert.Null(block.Find(B("zzz")));
    }

    [Fact]
    public void SeekStartsAtTheFirstKeyNotLessThanTheTarget()
    {
        var block = Build(Keys(50));
        Assert.Equal("user/00011", S(block.Seek(B("user/00010x")).First().Key));
        Assert.Equal("user/00020", S(block.Seek(B("user/00020")).First().Key));
        Assert.Equal("user/00000", S(block.Seek(B("a")).First().Key));
        Assert.Empty(block.Seek(B("zzz")));
        Assert.Equal(30, block.Seek(B("user/00020")).Count());
    }

    [Fact]
    public void PrefixCompressionHandlesBinaryKeysWithZeroAndFfBytes()
    {
        byte[][] keys = [[0x00], [0x00, 0x00], [0x00, 0xFF], [0x00, 0xFF, 0x00], [0x7F], [0xFF], [0xFF, 0xFF]];
        var entries = keys.Select((k, i) => new InternalEntry(k, [(byte)i], i + 1, 0, false)).ToList();
        var block = Build(entries);
        Assert.Equal(entries.Select(P), block.All().Select(P));
        Assert.Equal(P(entries[3]), P(block.Find([0x00, 0xFF, 0x00])));
    }

    [Fact]
    public void EveryFlippedByteIsDetectedByTheChecksum()
    {
        var builder = new DataBlockBuilder();
        foreach (var e in Keys(20))
        {
            builder.Add(e);
        }

        var encoded = new List<byte>();
        BlockCodec.Encode(builder.Finish(), compress: false, encoded);
        var bytes = encoded.ToArray();
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
        var plain = new List<byte>();
        var packed = new List<byte>();
        BlockCodec.Encode(payload, compress: false, plain);
        BlockCodec.Encode(payload, compress: true, packed);
        Assert.True(packed.Count < plain.Count / 4, $"LZ4 gave {packed.Count} bytes for 8 KiB of 'a'");
        Assert.Equal(payload, BlockCodec.Decode(packed.ToArray(), "x", 0));
    }
}
