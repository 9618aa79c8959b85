using System.Buffers.Binary;
using System.Text;
using RaftKv.Storage.Tables;
using RaftKv.TestSupport.IO;
using Xunit.Abstractions;

namespace RaftKv.Storage.Tests.Components;

/// <summary>Every block codec round-trips every kind of payload, stores a block uncompressed when
/// compressing does not pay, and reports damage as corruption (FORMAT.md, block trailer).</summary>
public sealed class BlockCodecTests(ITestOutputHelper output)
{
    public static TheoryData<BlockCompression, string> CodecsAndPayloads()
    {
        var data = new TheoryData<BlockCompression, string>();
        foreach (var codec in Enum.GetValues<BlockCompression>())
        {
            foreach (var payload in new[] { "empty", "tiny", "json", "text", "random", "zeros", "large-json" })
            {
                data.Add(codec, payload);
            }
        }

        return data;
    }

    internal static byte[] Payload(string kind, int seed)
    {
        var rng = new Random(seed);
        return kind switch
        {
            "empty" => [],
            "tiny" => "short value"u8.ToArray(),
            "json" => Encoding.UTF8.GetBytes(string.Concat(Enumerable.Range(0, 60).Select(i => $"{{\"id\":{rng.Next()},\"user\":\"user-{rng.Next(1000)}\",\"active\":{(rng.Next(2) == 0 ? "true" : "false")},\"tags\":[\"a\",\"b\"]}}"))),
            "text" => Encoding.UTF8.GetBytes(string.Join(' ', Enumerable.Range(0, 1500).Select(_ => Words[rng.Next(Words.Length)]))),
            "random" => Enumerable.Range(0, 8192).Select(_ => (byte)rng.Next(256)).ToArray(),
            "zeros" => new byte[8192],
            "large-json" => Encoding.UTF8.GetBytes(string.Concat(Enumerable.Range(0, 3000).Select(i => $"{{\"k\":\"key-{i:D6}\",\"v\":{rng.Next(100)}}}"))),
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };
    }

    private static readonly string[] Words = ["the", "quick", "brown", "fox", "jumps", "over", "lazy", "dog", "lorem", "ipsum", "dolor", "sit", "amet", "raft", "log", "entry", "commit", "index"];

    private static byte[] Encode(ReadOnlySpan<byte> payload, BlockCompression codec, out BlockCompression used)
    {
        var fs = new CrashableMemoryFileSystem();
        fs.CreateDirectory("/b");
        int written;
        using (var f = fs.Create("/b/block"))
        {
            written = BlockCodec.Write(payload, codec, f, out used);
            f.Sync();
        }

        using var r = fs.OpenRead("/b/block");
        var bytes = new byte[fs.GetLength("/b/block")];
        r.ReadExactly(0, bytes);
        Assert.Equal(written, bytes.Length);
        return bytes;
    }

    [Theory]
    [MemberData(nameof(CodecsAndPayloads))]
    public void EveryCodecRoundTripsEveryPayload(BlockCompression codec, string kind)
    {
        var payload = Payload(kind, seed: 5);
        var encoded = Encode(payload, codec, out var used);
        output.WriteLine($"{codec} {kind}: {payload.Length} → {encoded.Length} bytes ({used})");
        Assert.Equal(used, BlockCodec.KindOf(encoded));
        Assert.Equal(payload, BlockCodec.Decode(encoded, "t.sst", 0));
        if (codec == BlockCompression.None || kind is "empty" or "tiny" or "random")
        {
            Assert.Equal(BlockCompression.None, used); // nothing asked, or it did not pay: stored as is
            Assert.Equal(payload.Length + BlockCodec.TrailerSize, encoded.Length);
        }
        else
        {
            Assert.Equal(codec, used);
            Assert.True(encoded.Length < payload.Length * 7 / 8, $"{codec} gave {encoded.Length} bytes for {payload.Length}");
        }
    }

    [Theory]
    [InlineData(BlockCompression.Lz4)]
    [InlineData(BlockCompression.Zstd)]
    public void ADamagedCompressedPayloadWithAValidChecksumIsCorruption(BlockCompression codec)
    {
        var encoded = Encode(Payload("text", 9), codec, out var used);
        Assert.Equal(codec, used);
        foreach (var at in new[] { 0, 3, 4, 5, encoded.Length / 2, encoded.Length - BlockCodec.TrailerSize - 1 })
        {
            var copy = (byte[])encoded.Clone();
            copy[at] ^= 0x5A;
            // Re-seal the trailer: only the codec itself can notice.
            BinaryPrimitives.WriteUInt32LittleEndian(copy.AsSpan(copy.Length - 4), Crc32C.Compute(copy.AsSpan(0, copy.Length - 4)));
            try
            {
                var decoded = BlockCodec.Decode(copy, "tables/000007.sst", 100);
                // A flip inside a literal run can decode "successfully" to other bytes of the same length;
                // what must never happen is a silent length change or an unchecked exception.
                Assert.Equal(Payload("text", 9).Length, decoded.Length);
            }
            catch (StorageCorruptionException e)
            {
                Assert.Contains("000007.sst", e.Message, StringComparison.Ordinal);
            }
        }
    }

    [Fact]
    public void AnUnknownCompressionKindIsCorruption()
    {
        var encoded = Encode(Payload("text", 1), BlockCompression.None, out _);
        encoded[^BlockCodec.TrailerSize] = 9;
        BinaryPrimitives.WriteUInt32LittleEndian(encoded.AsSpan(encoded.Length - 4), Crc32C.Compute(encoded.AsSpan(0, encoded.Length - 4)));
        var e = Assert.Throws<StorageCorruptionException>(() => BlockCodec.Decode(encoded, "x.sst", 0));
        Assert.Contains("unknown compression 9", e.Message, StringComparison.Ordinal);
    }
}
