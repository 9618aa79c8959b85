using RaftKv.Storage.Blobs;
using RaftKv.Storage.IO;
using RaftKv.TestSupport.IO;
using static RaftKv.Storage.Tests.Helpers;

namespace RaftKv.Storage.Tests;

/// <summary>
/// Key-value separation (LsmOptions.BlobMinBytes, Tables/FORMAT.md "Value files"): large values go to value files at
/// flush, compactions move pointers (not values) and relocate the values of mostly-dead files, corruption and missing
/// files are named, and out-of-space leaves nothing behind.
/// </summary>
public sealed class ValueFileTests
{
    private static LsmOptions Options(IFileSystem fs) => new()
    {
        Directory = "/db",
        FileSystem = fs,
        BackgroundWork = false,
        BlobMinBytes = 1024,
        BlockSize = 1024,
        TargetFileBytes = 8 << 10,
        L0CompactionTrigger = 100,
    };

    private static async Task<LsmStore> OpenAsync(IFileSystem fs, LsmOptions? options = null)
    {
        var store = await LsmStore.OpenAsync(options ?? Options(fs));
        store.SeparateValues = true;
        return store;
    }

    private static byte[] Value(int key, int round) => B($"{key:D4}-{round}-" + new string((char)('a' + ((key + round) % 26)), 2000));

    private static List<string> BlobFiles(IFileSystem fs, string dir = "/db") => [.. fs.ListFiles(dir).Where(n => BlobSet.ParseName(n) is not null).Order(StringComparer.Ordinal)];

    [Fact]
    public async Task LargeValuesLiveInValueFilesAndCompactionsMovePointersOnly()
    {
        var fs = new CrashableMemoryFileSystem();
        await using (var store = await OpenAsync(fs))
        {
            long index = 0;
            for (var i = 0; i < 50; i++)
            {
                store.Apply(++index, [WriteOp.Put(B($"k{i:D4}"), Value(i, 0)), WriteOp.Put(B($"s{i:D4}"), B("small"))]);
            }

            await store.FlushAsync();
            var files = BlobFiles(fs);
            Assert.Single(files);
            var stats = store.GetStats();
            Assert.True(stats.BlobBytes > 50 * 2000, $"value file holds the values ({stats.BlobBytes} bytes)");
            Assert.True(stats.DiskBytes - stats.BlobBytes < 20 * 1024, $"the table holds pointers ({stats.DiskBytes - stats.BlobBytes} bytes)");
            Assert.Equal(stats.BlobBytes - BlobWriter.HeaderSize - (50 * BlobWriter.RecordHeaderSize), stats.BlobLiveBytes);

            for (var i = 0; i < 50; i += 2)
            {
                store.Apply(++index, [WriteOp.Put(B($"s{i:D4}"), B("small-2"))]); // small values only: no new value file
            }

            await store.FlushAsync();
            await store.CompactAsync(0);
            Assert.Equal(files, BlobFiles(fs)); // the compaction rewrote no value
            for (var i = 0; i < 50; i++)
            {
                Assert.Equal(Value(i, 0), (await store.GetAsync(B($"k{i:D4}"), 0))!.Value.Value.ToArray());
            }

            Assert.Equal(50, (await ScanAll(store, "k", "l")).Count(e => e.Value.Length > 2000));
        }

        fs.Crash();
        await using var reopened = await OpenAsync(fs);
        Assert.Equal(Value(7, 0), (await reopened.GetAsync(B("k0007"), 0))!.Value.Value.ToArray());
        Assert.Single(BlobFiles(fs));
    }

    [Fact]
    public async Task CompactionRelocatesTheValuesOfMostlyDeadFilesAndTheOldFileGoes()
    {
        var fs = new CrashableMemoryFileSystem();
        await using var store = await OpenAsync(fs);
        long index = 0;
        for (var i = 0; i < 40; i++)
        {
            store.Apply(++index, [WriteOp.Put(B($"k{i:D4}"), Value(i, 0))]);
        }

        await store.FlushAsync();
        var first = Assert.Single(BlobFiles(fs));
        for (var i = 0; i < 30; i++)
        {
            store.Apply(++index, [WriteOp.Put(B($"k{i:D4}"), Value(i, 1))]); // 3/4 of the first file dies
        }

        await store.FlushAsync();
        Assert.Equal(2, BlobFiles(fs).Count);
        await store.CompactAsync(0); // drops the overwritten versions: the first file is mostly garbage now
        await store.CompactAsync(0); // meets its 10 live values again and moves them
        Assert.DoesNotContain(first, BlobFiles(fs));
        for (var i = 0; i < 40; i++)
        {
            Assert.Equal(Value(i, i < 30 ? 1 : 0), (await store.GetAsync(B($"k{i:D4}"), 0))!.Value.Value.ToArray());
        }

        var stats = store.GetStats();
        Assert.True(stats.BlobLiveBytes * 2 >= stats.BlobBytes, $"live {stats.BlobLiveBytes} of {stats.BlobBytes}");
    }

    [Fact]
    public async Task ACorruptValueIsNamedAndAMissingValueFileFailsTheOpen()
    {
        var fs = new CrashableMemoryFileSystem();
        await using (var store = await OpenAsync(fs))
        {
            store.Apply(1, [WriteOp.Put(B("a"), Value(1, 0)), WriteOp.Put(B("b"), Value(2, 0))]);
            await store.FlushAsync();
        }

        var blob = Path.Combine("/db", Assert.Single(BlobFiles(fs)));
        fs.Corrupt(blob, BlobWriter.HeaderSize + BlobWriter.RecordHeaderSize + 100); // inside a's value
        await using (var store = await OpenAsync(fs))
        {
            var e = await Assert.ThrowsAsync<StorageCorruptionException>(async () => await store.GetAsync(B("a"), 0));
            Assert.Contains(".blob", e.Message, StringComparison.Ordinal);
            Assert.Equal(Value(2, 0), (await store.GetAsync(B("b"), 0))!.Value.Value.ToArray());
        }

        fs.Delete(blob);
        var missing = await Assert.ThrowsAsync<StorageCorruptionException>(() => LsmStore.OpenAsync(Options(fs)));
        Assert.Contains(Path.GetFileName(blob), missing.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("append")]
    [InlineData("sync")]
    public async Task OutOfSpaceWhileWritingAValueFileLeavesNothingBehind(string operation)
    {
        var fs = new CrashableMemoryFileSystem();
        await using var store = await OpenAsync(fs);
        store.Apply(1, [WriteOp.Put(B("a"), Value(1, 0))]);
        fs.BeforeOperation = (op, path) =>
        {
            if (op == operation && path.EndsWith(BlobSet.Extension, StringComparison.Ordinal))
            {
                throw new DiskFullException("no space left on device (injected)");
            }
        };
        await Assert.ThrowsAnyAsync<IOException>(() => store.FlushAsync());
        fs.BeforeOperation = null;
        Assert.Empty(BlobFiles(fs));
        Assert.DoesNotContain(fs.ListFiles("/db"), n => n.EndsWith(".sst", StringComparison.Ordinal));
        Assert.Equal(Value(1, 0), (await store.GetAsync(B("a"), 0))!.Value.Value.ToArray()); // still in the memtable

        await store.FlushAsync(); // space is back
        Assert.Single(BlobFiles(fs));
        Assert.Equal(1, store.DurableIndex);
    }

    [Fact]
    public async Task OffUntilTheOwnerTurnsItOnAndArchivedTablesTakeTheirValuesInline()
    {
        var fs = new CrashableMemoryFileSystem();
        var objects = new FileSystemRemoteTableStore(fs);
        await using var store = await LsmStore.OpenAsync(Options(fs) with { RemoteStore = objects });
        store.Apply(1, [WriteOp.Put(B("a"), Value(1, 0))]);
        await store.FlushAsync();
        Assert.Empty(BlobFiles(fs)); // SeparateValues is off by default

        store.SeparateValues = true;
        store.Apply(2, [WriteOp.Put(B("b"), Value(2, 0))]);
        await store.FlushAsync();
        Assert.Single(BlobFiles(fs));

        foreach (var t in store.ListTables())
        {
            Assert.True(await store.ArchiveTableAsync(t.Id, $"objects/{t.Id}.sst"));
        }

        Assert.Empty(BlobFiles(fs)); // no local table points into it any more
        Assert.Equal(Value(1, 0), (await store.GetAsync(B("a"), 0))!.Value.Value.ToArray());
        Assert.Equal(Value(2, 0), (await store.GetAsync(B("b"), 0))!.Value.Value.ToArray());
        Assert.Equal(2000 + 7, store.GetMetadata(B("b"), 0)!.Value.ValueLength); // from the keys file, no object read
    }
}
