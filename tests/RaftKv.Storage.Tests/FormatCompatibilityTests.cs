using System.Buffers.Binary;
using RaftKv.Storage.IO;
using RaftKv.Storage.Tables;
using RaftKv.TestSupport.IO;
using static RaftKv.Storage.Tests.Helpers;

namespace RaftKv.Storage.Tests;

/// <summary>
/// Tables written by the format-1 writer (before Zstd; Fixtures/v1-*.sst, committed bytes) still read
/// with every entry, and the writer only uses format version 2 when a block is Zstd-compressed, so
/// releases that know version 1 keep reading everything else (Tables/FORMAT.md).
/// </summary>
public sealed class FormatCompatibilityTests
{
    /// <summary>The entries the fixtures were written with (1 KiB blocks, created at 1_700_000_000_000).</summary>
    private static IEnumerable<(string Key, string Value, long Version, long Expires, bool Tombstone)> FixtureEntries()
    {
        for (var i = 0; i < 300; i++)
        {
            var value = i % 7 == 0 ? string.Empty : $"{{\"id\":{i},\"name\":\"user-{i}\",\"text\":\"{new string((char)('a' + (i % 26)), i % 50)} lorem ipsum dolor sit amet\"}}";
            yield return ($"key{i:D4}", value, 1000 + i, i % 11 == 0 ? 5_000_000 + i : 0, i % 7 == 0);
        }
    }

    [Theory]
    [InlineData("v1-none.sst", BlockCompression.None)]
    [InlineData("v1-lz4.sst", BlockCompression.Lz4)]
    public async Task FormatOneTablesReadEveryEntry(string fixture, BlockCompression blocks)
    {
        var path = Path.Combine(AppContext.BaseDirectory, "Fixtures", fixture);
        var bytes = await File.ReadAllBytesAsync(path);
        Assert.Equal(1u, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(bytes.Length - 12))); // the footer's version
        var reader = TableReader.OpenLocal(PhysicalFileSystem.Instance, path, 1, new BlockCache(1 << 20));
        try
        {
            Assert.Equal(300, reader.Meta.EntryCount);
            Assert.Equal(1_700_000_000_000, reader.Meta.CreatedUnixMs);
            var kinds = new HashSet<BlockCompression>();
            for (var i = 0; i < reader.BlockCount; i++)
            {
                var h = reader.HandleOf(i);
                kinds.Add(BlockCodec.KindOf(bytes.AsSpan((int)h.Offset, h.Length)));
            }

            Assert.Contains(blocks, kinds);
            foreach (var (key, value, version, expires, tombstone) in FixtureEntries())
            {
                var e = await reader.GetAsync(B(key), CancellationToken.None);
                Assert.NotNull(e);
                Assert.Equal((value, version, expires, tombstone), (S(e.Value), e.Version, e.ExpiresAtUnixMs, e.Tombstone));
            }
        }
        finally
        {
            reader.Unref();
        }
    }

    [Theory]
    [InlineData(BlockCompression.None, 1u)]
    [InlineData(BlockCompression.Lz4, 1u)]
    [InlineData(BlockCompression.Zstd, 2u)]
    public void TheWriterUsesVersionTwoOnlyForZstdBlocks(BlockCompression codec, uint version)
    {
        var fs = new CrashableMemoryFileSystem();
        fs.CreateDirectory("/db");
        using (var w = new TableWriter(fs, "/db/000001.sst", 1024, codec))
        {
            foreach (var (key, value, v, expires, tombstone) in FixtureEntries())
            {
                w.Add(B(key), B(value), v, expires, tombstone);
            }

            w.Finish(1);
        }

        var bytes = new byte[fs.GetLength("/db/000001.sst")];
        using (var f = fs.OpenRead("/db/000001.sst"))
        {
            f.ReadExactly(0, bytes);
        }

        Assert.Equal(version, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(bytes.Length - 12)));
        var reader = TableReader.OpenLocal(fs, "/db/000001.sst", 1, new BlockCache(0));
        Assert.Equal(300, reader.Meta.EntryCount);
        reader.Unref();
    }

    [Fact]
    public void AnUnknownFormatVersionIsRefusedNamingTheFile()
    {
        var bytes = File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Fixtures", "v1-lz4.sst"));
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(bytes.Length - 12), 4);
        var fs = new CrashableMemoryFileSystem();
        fs.CreateDirectory("/db");
        using (var f = fs.Create("/db/000009.sst"))
        {
            f.Append(bytes);
            f.Sync();
        }

        var e = Assert.Throws<StorageCorruptionException>(() => TableReader.OpenLocal(fs, "/db/000009.sst", 9, new BlockCache(0)));
        Assert.Contains("000009.sst", e.Message, StringComparison.Ordinal);
        Assert.Contains("version 4", e.Message, StringComparison.Ordinal);
    }
}
