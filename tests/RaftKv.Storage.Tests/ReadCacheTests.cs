using System.Text;
using RaftKv.Storage.Tables;
using RaftKv.TestSupport.IO;
using static RaftKv.Storage.Tests.Helpers;

namespace RaftKv.Storage.Tests;

/// <summary>
/// The block cache as the store's read cache and the object tier's cost per get: a cold get of an
/// archived key is one ranged read whose block is promoted into the cache; keys the archived table
/// does not hold, and its tombstones, cost no request (its keys file answers); tables are re-encoded
/// with the object tier's codec as they are archived; the cache stays within its capacity.
/// </summary>
public sealed class ReadCacheTests
{
    private const int Keys = 3000;

    private static LsmOptions Options(CrashableMemoryFileSystem fs, IRemoteTableStore remote, BlockCompression local = BlockCompression.None, BlockCompression archived = BlockCompression.None, long cacheBytes = 1 << 20) => new()
    {
        Directory = "/db",
        FileSystem = fs,
        RemoteStore = remote,
        BackgroundWork = false,
        MemtableMaxBytes = 64 << 20,
        BlockSize = 4096,
        BlockCacheBytes = cacheBytes,
        Compression = local,
        RemoteCompression = archived,
    };

    /// <summary>A JSON-like value longer than the keys file's inline limit (only the object has it).</summary>
    private static byte[] Value(int i) => Encoding.UTF8.GetBytes($"{{\"id\":{i},\"name\":\"user-{i % 97}\",\"email\":\"user{i}@example.com\",\"active\":{(i % 3 == 0 ? "true" : "false")},\"note\":\"lorem ipsum dolor sit amet\"}}");

    /// <summary>Keys 0, 2, 4, … (odd keys are absent), key 10 deleted, flushed as one table and archived.</summary>
    private static async Task<LsmStore> ArchivedStoreAsync(LsmOptions options, int keys = 2000)
    {
        var store = await LsmStore.OpenAsync(options);
        for (var i = 0; i < keys; i += 2)
        {
            store.Apply(i + 1, [i == 10 ? WriteOp.Delete(B($"key{i:D6}")) : WriteOp.Put(B($"key{i:D6}"), Value(i))]);
        }

        await store.FlushAsync();
        var table = Assert.Single(store.ListTables());
        Assert.True(await store.ArchiveTableAsync(table.Id, "node-1/sst/t.sst"));
        await store.DisposeAsync();
        return await LsmStore.OpenAsync(options); // reopened: the cache starts cold
    }

    [Fact]
    public async Task AColdGetCostsOneRangedReadAndPromotesItsBlock()
    {
        var fs = new CrashableMemoryFileSystem();
        var objects = new FileSystemRemoteTableStore(fs);
        await using var store = await ArchivedStoreAsync(Options(fs, objects));
        var before = store.GetStats();

        var hit = await store.GetAsync(B("key000500"), 0);
        Assert.Equal(Tier.Object, hit!.Value.Tier);
        Assert.Equal(Value(500), hit.Value.Value.ToArray());
        var cold = store.GetStats();
        Assert.Equal(1, cold.ObjectReadRequests - before.ObjectReadRequests);
        Assert.Equal(1, cold.CachePromotions - before.CachePromotions);
        Assert.True(cold.ObjectReadBytes - before.ObjectReadBytes <= 2 * 4096, $"{cold.ObjectReadBytes - before.ObjectReadBytes} bytes for one block");

        // The same key and its block neighbours again: served by the cache, no request.
        Assert.Equal(Tier.Object, (await store.GetAsync(B("key000500"), 0))!.Value.Tier);
        Assert.NotNull(await store.GetAsync(B("key000502"), 0));
        var warm = store.GetStats();
        Assert.Equal(cold.ObjectReadRequests, warm.ObjectReadRequests);
        Assert.True(warm.CacheHits > cold.CacheHits);
        Assert.Equal(1, objects.Reads);
    }

    [Fact]
    public async Task AbsentKeysAndTombstonesOfArchivedTablesCostNoRequest()
    {
        var fs = new CrashableMemoryFileSystem();
        var objects = new FileSystemRemoteTableStore(fs);
        await using var store = await ArchivedStoreAsync(Options(fs, objects));
        for (var i = 1; i < 2000; i += 2)
        {
            Assert.Null(await store.GetAsync(B($"key{i:D6}"), 0)); // ~1 % pass the bloom filter: the keys file settles them
        }

        Assert.Null(await store.GetAsync(B("key000010"), 0)); // a tombstone in the archived table
        Assert.Equal(0, store.GetStats().ObjectReadRequests);
        Assert.Equal(0, objects.Reads);
    }

    [Theory]
    [InlineData(BlockCompression.None, BlockCompression.Lz4)]
    [InlineData(BlockCompression.None, BlockCompression.Zstd)]
    [InlineData(BlockCompression.Zstd, BlockCompression.None)]
    [InlineData(BlockCompression.Lz4, BlockCompression.Lz4)]
    public async Task ArchivingReencodesWithTheObjectTiersCodecAndEveryEntryReadsBack(BlockCompression local, BlockCompression archived)
    {
        var fs = new CrashableMemoryFileSystem();
        var objects = new FileSystemRemoteTableStore(fs);
        var options = Options(fs, objects, local, archived);
        long localSize;
        await using (var store = await LsmStore.OpenAsync(options))
        {
            for (var i = 0; i < Keys; i++)
            {
                store.Apply(i + 1, [WriteOp.Put(B($"key{i:D6}"), Value(i))]);
            }

            await store.FlushAsync();
            localSize = store.ListTables().Single().SizeBytes;
            Assert.True(await store.ArchiveTableAsync(store.ListTables().Single().Id, "o/t.sst"));
            var info = store.ListTables().Single();
            Assert.True(info.IsRemote);
            Assert.Equal(objects.Length("o/t.sst"), info.SizeBytes);
            Assert.Equal(info.SizeBytes, store.GetStats().RemoteBytes);
            if (local == archived)
            {
                Assert.Equal(localSize, info.SizeBytes); // uploaded as is
            }
            else if (archived != BlockCompression.None)
            {
                Assert.True(info.SizeBytes < localSize * 3 / 4, $"{archived} object {info.SizeBytes} bytes, local table {localSize}");
            }

            await AssertEveryEntryAsync(store);
            Assert.DoesNotContain(fs.ListFiles("/db"), n => n.EndsWith(".sst", StringComparison.Ordinal) || n.EndsWith(".tmp", StringComparison.Ordinal));
        }

        fs.Crash(); // only what was made durable survives
        await using (var reopened = await LsmStore.OpenAsync(options))
        {
            await AssertEveryEntryAsync(reopened);
            await reopened.CompactAsync(0); // consumes the archived table: reads every block of the object
            Assert.False(reopened.ListTables().Single().IsRemote);
            await AssertEveryEntryAsync(reopened);
        }
    }

    /// <summary>A power cut before any file operation of archiving (re-encoding or not): after the
    /// reopen every entry reads back, and no temp file, nor the local data file of a table the manifest
    /// says is archived, is left behind.</summary>
    [Theory]
    [InlineData(BlockCompression.None, BlockCompression.Zstd)]
    [InlineData(BlockCompression.Lz4, BlockCompression.Lz4)]
    public async Task APowerCutAtAnyStepOfArchivingLosesNothingAndLeaksNoFile(BlockCompression local, BlockCompression archived)
    {
        for (var cut = 0; ; cut++)
        {
            var fs = new CrashableMemoryFileSystem();
            var objects = new FileSystemRemoteTableStore(fs);
            var options = Options(fs, objects, local, archived) with { BlockSize = 16 << 10 };
            var store = await LsmStore.OpenAsync(options);
            for (var i = 0; i < Keys; i++)
            {
                store.Apply(i + 1, [WriteOp.Put(B($"key{i:D6}"), Value(i))]);
            }

            await store.FlushAsync();
            var id = store.ListTables().Single().Id;
            var ops = 0;
            var cutHappened = false;
            fs.BeforeOperation = (op, path) =>
            {
                if (ops++ == cut)
                {
                    cutHappened = true;
                    throw new IOException($"power cut before {op} {path}");
                }
            };
            try
            {
                await store.ArchiveTableAsync(id, "o/t.sst");
            }
            catch (IOException) when (cutHappened)
            {
            }

            fs.BeforeOperation = null;
            try
            {
                await store.DisposeAsync();
            }
            catch (IOException)
            {
            }

            fs.Crash();
            await using (var reopened = await LsmStore.OpenAsync(options))
            {
                await AssertEveryEntryAsync(reopened);
                var files = fs.ListFiles("/db");
                Assert.DoesNotContain(files, n => n.EndsWith(".tmp", StringComparison.Ordinal));
                if (reopened.ListTables().Single().IsRemote)
                {
                    Assert.DoesNotContain(files, n => n.EndsWith(".sst", StringComparison.Ordinal));
                }
            }

            if (!cutHappened)
            {
                Assert.True(cut > 5, $"archiving took only {cut} file operations");
                return; // the run without a cut: every step has been cut once
            }
        }
    }

    [Fact]
    public async Task TheCacheStaysWithinItsCapacityAndCountsEvictions()
    {
        var fs = new CrashableMemoryFileSystem();
        var objects = new FileSystemRemoteTableStore(fs);
        await using var store = await ArchivedStoreAsync(Options(fs, objects, cacheBytes: 32 << 10), keys: 20_000);
        var rng = new Random(3);
        for (var n = 0; n < 2000; n++)
        {
            var i = rng.Next(10_000) * 2;
            var got = await store.GetAsync(B($"key{i:D6}"), 0);
            Assert.Equal(i == 10 ? null : Value(i), got?.Value.ToArray());
            Assert.True(store.GetStats().CacheBytes <= 32 << 10);
        }

        var s = store.GetStats();
        Assert.Equal(32 << 10, s.CacheCapacityBytes);
        Assert.True(s.CacheEvictions > 0);
        Assert.True(s.CacheBlocks > 0);
        Assert.Equal(s.CachePromotions, s.ObjectReadRequests); // every block read from the object was promoted
        Assert.Equal(s.ObjectReadRequests, objects.Reads);
    }

    private static async Task AssertEveryEntryAsync(LsmStore store)
    {
        for (var i = 0; i < Keys; i += 7)
        {
            var got = await store.GetAsync(B($"key{i:D6}"), 0);
            Assert.Equal(Value(i), got!.Value.Value.ToArray());
        }

        var all = await ScanAll(store);
        Assert.Equal(Keys, all.Count);
        Assert.All(all, e => Assert.Equal(Value(int.Parse(S(e.Key)[3..], System.Globalization.CultureInfo.InvariantCulture)), e.Value.ToArray()));
    }
}
