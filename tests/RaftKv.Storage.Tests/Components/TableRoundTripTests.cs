using RaftKv.Storage.Tables;
using RaftKv.TestSupport.IO;
using Xunit.Abstractions;
using static RaftKv.Storage.Tests.Helpers;

namespace RaftKv.Storage.Tests.Components;

public sealed class TableRoundTripTests(ITestOutputHelper output)
{
    private const string Path = "/db/000001.sst";

    private static List<InternalEntry> Entries(int seed, int count)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, count)
            .Select(i => new InternalEntry(
                B($"key/{i:D6}"),
                Enumerable.Range(0, rng.Next(0, 300)).Select(_ => (byte)rng.Next(256)).ToArray(),
                rng.Next(1, 1_000_000),
                rng.Next(4) == 0 ? rng.Next(1, 1_000_000) : 0,
                rng.Next(10) == 0))
            .ToList();
    }

    private static (CrashableMemoryFileSystem Fs, TableMeta Meta) Write(List<InternalEntry> entries, BlockCompression compression)
    {
        var fs = new CrashableMemoryFileSystem();
        fs.CreateDirectory("/db");
        using var w = new TableWriter(fs, Path, blockSize: 1024, compression);
        foreach (var e in entries)
        {
            w.Add(e);
        }

        var (meta, _) = w.Finish(createdUnixMs: 1234);
        return (fs, meta);
    }

    [Theory]
    [InlineData(BlockCompression.None)]
    [InlineData(BlockCompression.Lz4)]
    [InlineData(BlockCompression.Zstd)]
    public async Task EveryEntryIsReadBackByGetAndByScan(BlockCompression compression)
    {
        var seed = int.TryParse(Environment.GetEnvironmentVariable("RAFTKV_SEED"), out var s) ? s : Environment.TickCount & 0xFFFF;
        output.WriteLine($"seed {seed}");
        var entries = Entries(seed, 2_000);
        var (fs, meta) = Write(entries, compression);
        Assert.Equal(2_000, meta.EntryCount);
        Assert.Equal(entries.Min(e => e.Version), meta.MinIndex);
        Assert.Equal(entries.Max(e => e.Version), meta.MaxIndex);

        var reader = TableReader.OpenLocal(fs, Path, 1, new BlockCache(1 << 20));
        foreach (var e in entries)
        {
            Assert.True(reader.MayContain(e.Key, BloomFilter.Hash(e.Key)));
            Assert.Equal(P(e), P(await reader.GetAsync(e.Key, CancellationToken.None)));
        }

        Assert.Null(await reader.GetAsync(B("key/000100x"), CancellationToken.None));
        var scanned = new List<InternalEntry>();
        var cursor = new RaftKv.Storage.Iteration.TableCursor([reader], B("key/001000"));
        while (await cursor.MoveNextAsync(CancellationToken.None))
        {
            scanned.Add(new InternalEntry(cursor.Key.ToArray(), cursor.Value.ToArray(), cursor.Version, cursor.ExpiresAtUnixMs, cursor.Tombstone));
        }

        Assert.Equal(entries.Skip(1000).Select(P), scanned.Select(P));
    }

    [Theory]
    [InlineData(BlockCompression.None)]
    [InlineData(BlockCompression.Lz4)]
    [InlineData(BlockCompression.Zstd)]
    public async Task OnePassCursorReadsEveryEntryWithoutFillingTheCache(BlockCompression compression)
    {
        var entries = Entries(17, 3_000);
        var (fs, _) = Write(entries, compression);
        var cache = new BlockCache(1 << 20);
        var reader = TableReader.OpenLocal(fs, Path, 1, cache);
        var cursor = new RaftKv.Storage.Iteration.TableCursor([reader], [], fillCache: false);
        var scanned = new List<InternalEntry>();
        while (cursor.TryMoveNext(out var moved) ? moved : await cursor.MoveNextAsync(CancellationToken.None))
        {
            // Values live in a reused buffer: copy before moving on (as compaction does).
            scanned.Add(new InternalEntry(cursor.Key.ToArray(), cursor.Value.ToArray(), cursor.Version, cursor.ExpiresAtUnixMs, cursor.Tombstone));
        }

        Assert.Equal(entries.Select(P), scanned.Select(P));
        Assert.Equal(0, cache.Bytes);
        Assert.True(reader.BlockCount > 10);
    }

    [Fact]
    public void KeysOutOfOrderAreRefused()
    {
        var fs = new CrashableMemoryFileSystem();
        fs.CreateDirectory("/db");
        using var w = new TableWriter(fs, Path, 1024, BlockCompression.None);
        w.Add(new InternalEntry(B("b"), [], 1, 0, false));
        Assert.Throws<InvalidOperationException>(() => w.Add(new InternalEntry(B("a"), [], 2, 0, false)));
        Assert.Throws<InvalidOperationException>(() => w.Add(new InternalEntry(B("b"), [], 3, 0, false)));
    }

    [Theory]
    [InlineData(1)] // last byte of the footer (magic)
    [InlineData(12)] // format version
    public void AFooterThatIsNotOursIsReportedWithThePath(int fromEnd)
    {
        var (fs, _) = Write(Entries(1, 10), BlockCompression.None);
        var bytes = Read(fs);
        bytes[^fromEnd] ^= 0xFF;
        Rewrite(fs, bytes);
        var e = Assert.ThrowsAny<Exception>(() => TableReader.OpenLocal(fs, Path, 1, new BlockCache(0)));
        Assert.True(e is StorageCorruptionException, $"expected StorageCorruptionException, got {e.GetType().Name}: {e.Message}");
        Assert.Contains("000001.sst", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ATruncatedTableIsReportedWithThePath()
    {
        var (fs, _) = Write(Entries(2, 10), BlockCompression.None);
        Rewrite(fs, Read(fs)[..^20]);
        var e = Assert.Throws<StorageCorruptionException>(() => TableReader.OpenLocal(fs, Path, 1, new BlockCache(0)));
        Assert.Contains("000001.sst", e.Message, StringComparison.Ordinal);
    }

    private static byte[] Read(CrashableMemoryFileSystem fs)
    {
        using var f = fs.OpenRead(Path);
        var bytes = new byte[fs.GetLength(Path)];
        f.ReadExactly(0, bytes);
        return bytes;
    }

    private static void Rewrite(CrashableMemoryFileSystem fs, byte[] bytes)
    {
        using var f = fs.Create(Path);
        f.Append(bytes);
        f.Sync();
    }
}
