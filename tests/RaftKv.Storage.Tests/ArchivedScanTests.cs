using System.Text;
using RaftKv.Storage.Tables;
using RaftKv.TestSupport.IO;
using static RaftKv.Storage.Tests.Helpers;

namespace RaftKv.Storage.Tests;

/// <summary>
/// Reading archived tables in key order costs a few ranged reads per table, not one per data block: a scan
/// fetches a window of blocks per request, starting at one block (a short scan reads about one block) and
/// doubling up to <see cref="ReadAhead.WindowBytes"/>, and keeps the blocks it fetched even when a small block
/// cache evicts them; a compaction of archived tables fills its read-ahead window with one request. (A scan
/// over everything is what HashKV, range reads and backups of an archived store do; compaction of archived
/// tables is what a disk limit below the data set makes routine.)
/// </summary>
public sealed class ArchivedScanTests
{
    private const int BlockSize = 4096;
    private const int Keys = 6000;

    private static LsmOptions Options(CrashableMemoryFileSystem fs, IRemoteTableStore remote, long cacheBytes) => new()
    {
        Directory = "/db",
        FileSystem = fs,
        RemoteStore = remote,
        BackgroundWork = false,
        MemtableMaxBytes = 64 << 20,
        BlockSize = BlockSize,
        BlockCacheBytes = cacheBytes,
        Compression = BlockCompression.None,
        RemoteCompression = BlockCompression.None,
        L0CompactionTrigger = 100,
    };

    private static byte[] Value(int i, int generation) => Encoding.UTF8.GetBytes($"{{\"id\":{i},\"gen\":{generation},\"note\":\"lorem ipsum dolor sit amet, consectetur adipiscing elit\"}}");

    /// <summary>Writes every key at <paramref name="generation"/>, flushes it as one table and archives it.</summary>
    private static async Task ArchiveGenerationAsync(LsmStore store, int generation)
    {
        for (var i = 0; i < Keys; i++)
        {
            store.Apply((generation * Keys) + i + 1, [WriteOp.Put(B($"key{i:D6}"), Value(i, generation))]);
        }

        await store.FlushAsync();
        var table = store.ListTables().Single(t => !t.IsRemote);
        Assert.True(await store.ArchiveTableAsync(table.Id, $"o/{table.Id}.sst"));
    }

    /// <summary>Scans every key, checking each is the <paramref name="generation"/>'s and served by <paramref name="tier"/>.</summary>
    private static async Task<int> ScanAllAsync(LsmStore store, int generation, Tier tier)
    {
        var n = 0;
        await foreach (var e in store.ScanAsync(Array.Empty<byte>(), Array.Empty<byte>(), 0, 0))
        {
            Assert.Equal(B($"key{n:D6}"), e.Key.ToArray());
            Assert.Equal(Value(n, generation), e.Value.ToArray());
            Assert.Equal(tier, e.Tier);
            n++;
        }

        return n;
    }

    [Theory]
    [InlineData(1 << 20)] // the whole table fits in the cache
    [InlineData(16 << 10)] // a cache of four blocks: what the scan fetched is evicted before it reads it
    public async Task AFullScanOfAnArchivedTableCostsAFewRangedReadsNotOnePerBlock(long cacheBytes)
    {
        var fs = new CrashableMemoryFileSystem();
        var objects = new FileSystemRemoteTableStore(fs);
        var options = Options(fs, objects, cacheBytes);
        int blocks;
        await using (var store = await LsmStore.OpenAsync(options))
        {
            await ArchiveGenerationAsync(store, 0);
            var table = store.ListTables().Single();
            blocks = (int)(table.SizeBytes / BlockSize);
        }

        await using var cold = await LsmStore.OpenAsync(options); // nothing cached
        var first = await FirstAsync(cold);
        Assert.Equal(B("key000000"), first);
        Assert.Equal(1, objects.Reads); // a short scan: one request of about one block
        Assert.True(cold.GetStats().ObjectReadBytes <= 2 * BlockSize, $"{cold.GetStats().ObjectReadBytes} bytes for the first key");

        Assert.Equal(Keys, await ScanAllAsync(cold, 0, Tier.Object));
        var reads = objects.Reads - 1;
        Assert.True(blocks > 100, $"{blocks} blocks: enough for the bound below to mean something");
        Assert.True(reads <= 12, $"{reads} ranged reads for a scan of {blocks} archived blocks (1 block, then windows doubling to 256 KiB)");
    }

    [Fact]
    public async Task CompactingArchivedTablesReadsThemInWindowsOfBlocks()
    {
        var fs = new CrashableMemoryFileSystem();
        var objects = new FileSystemRemoteTableStore(fs);
        await using var store = await LsmStore.OpenAsync(Options(fs, objects, 16 << 10));
        await ArchiveGenerationAsync(store, 0);
        await ArchiveGenerationAsync(store, 1); // two overlapping L0 tables, both archived
        var tables = store.ListTables();
        Assert.All(tables, t => Assert.True(t.IsRemote));
        var blocks = tables.Sum(t => t.SizeBytes) / BlockSize;
        var windows = tables.Sum(t => (t.SizeBytes / ReadAhead.WindowBytes) + 1);

        var before = objects.Reads;
        await store.CompactAsync(0); // merges both from the object store into one local table
        var reads = objects.Reads - before;
        Assert.False(Assert.Single(store.ListTables()).IsRemote);
        Assert.True(reads <= 2 * windows, $"{reads} ranged reads to compact {blocks} archived blocks ({windows} read-ahead windows)");
        Assert.Equal(Keys, await ScanAllAsync(store, 1, Tier.Disk)); // the newer generation won
    }

    private static async Task<byte[]?> FirstAsync(LsmStore store)
    {
        await foreach (var e in store.ScanAsync(Array.Empty<byte>(), Array.Empty<byte>(), 1, 0))
        {
            return e.Key.ToArray();
        }

        return null;
    }
}
