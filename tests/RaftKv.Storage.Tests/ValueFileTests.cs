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

    [Fact]
    public async Task ARuleSeparatesTheSmallValuesOfItsKeySpaceOnlyAndCompactionsMoveTheirPointers()
    {
        var fs = new CrashableMemoryFileSystem();
        var options = Options(fs) with { ValueFileRules = [new ValueFileRule(B("h/"), 64)] };
        var small = new string('v', 100);
        await using (var store = await OpenAsync(fs, options))
        {
            long index = 0;
            for (var i = 0; i < 50; i++)
            {
                // Under the rule: 100 bytes (separated) and 10 bytes (below the rule's size); elsewhere 100 bytes (kept).
                store.Apply(++index, [WriteOp.Put(B($"h/{i:D4}"), B($"{i:D4}{small}")), WriteOp.Put(B($"h/t{i:D4}"), B("tiny")), WriteOp.Put(B($"s{i:D4}"), B($"{i:D4}{small}"))]);
            }

            await store.FlushAsync();
            var files = BlobFiles(fs);
            Assert.Single(files);
            var stats = store.GetStats();
            Assert.Equal(50 * 104, stats.BlobLiveBytes); // exactly the 100-byte values under h/
            Assert.True(stats.FlushBytesWritten >= stats.DiskBytes, $"flush bytes {stats.FlushBytesWritten} count the tables and the value file ({stats.DiskBytes})");

            for (var i = 0; i < 50; i += 2)
            {
                store.Apply(++index, [WriteOp.Put(B($"s{i:D4}"), B("small-2"))]);
            }

            await store.FlushAsync();
            await store.CompactAsync(0);
            Assert.Equal(files, BlobFiles(fs)); // pointers moved, no value rewritten
            stats = store.GetStats();
            Assert.True(stats.CompactionBytesRead > 0 && stats.CompactionBytesWritten > 0, $"compaction bytes read {stats.CompactionBytesRead}, written {stats.CompactionBytesWritten}");
            for (var i = 0; i < 50; i++)
            {
                Assert.Equal($"{i:D4}{small}", S((await store.GetAsync(B($"h/{i:D4}"), 0))!.Value.Value));
                Assert.Equal("tiny", S((await store.GetAsync(B($"h/t{i:D4}"), 0))!.Value.Value));
            }

            Assert.Equal(100, (await ScanAll(store, "h/", "h0")).Count);
        }

        fs.Crash();
        await using var reopened = await OpenAsync(fs, options);
        Assert.Equal($"0007{small}", S((await reopened.GetAsync(B("h/0007"), 0))!.Value.Value));
        Assert.Equal($"0009{small}", S((await reopened.GetAsync(B("s0009"), 0))!.Value.Value)); // s0008 was overwritten
    }

    [Fact]
    public async Task AScanReadsItsSmallSeparatedValuesThroughWindowsNotOneReadEach()
    {
        // History-like records: small values under a rule, written by two flushes with interleaved keys and compacted
        // together, so one L1 table points into two value files in turn (a HashKV's or watch catch-up's scan).
        var fs = new CrashableMemoryFileSystem();
        var options = Options(fs) with { ValueFileRules = [new ValueFileRule(B("h/"), 8)], TargetFileBytes = 1 << 20 };
        const int Keys = 4_000;
        static string V(int i) => $"{i:D5}-" + new string((char)('a' + (i % 26)), 150 + (i % 50));
        await using var store = await OpenAsync(fs, options);
        long index = 0;
        for (var parity = 0; parity < 2; parity++)
        {
            for (var i = parity; i < Keys; i += 2)
            {
                store.Apply(++index, [WriteOp.Put(B($"h/{i:D5}"), B(V(i)))]);
            }

            await store.FlushAsync();
        }

        await store.CompactAsync(0);
        Assert.Equal(2, BlobFiles(fs).Count);
        static bool IsValueFile(string path) => path.EndsWith(BlobSet.Extension, StringComparison.Ordinal);
        var before = fs.ReadsOf(IsValueFile);
        var all = await ScanAll(store, "h/", "h0");
        var reads = fs.ReadsOf(IsValueFile) - before;

        Assert.Equal(Keys, all.Count);
        for (var i = 0; i < Keys; i++)
        {
            Assert.Equal(V(i), S(all[i].Value));
        }

        // ~800 KB of values in 64 KiB windows: a few dozen reads, where a read per value would be 4,000.
        Assert.True(reads <= Keys / 40, $"{reads} value-file reads for a scan of {Keys} separated values");

        Assert.Equal(V(1234), S((await store.GetAsync(B("h/01234"), 0))!.Value.Value)); // a point read: its own read
    }

    [Fact]
    public async Task RulesApplyOnlyWhileSeparationIsOn()
    {
        var fs = new CrashableMemoryFileSystem();
        var rules = new[] { new ValueFileRule(B("h/"), 8) };
        await using (var off = await LsmStore.OpenAsync(Options(fs) with { ValueFileRules = rules }))
        {
            off.Apply(1, [WriteOp.Put(B("h/a"), B("a value of some size"))]); // SeparateValues not set by the owner
            await off.FlushAsync();
        }

        Assert.Empty(BlobFiles(fs));
        var fs2 = new CrashableMemoryFileSystem();
        await using var zero = await OpenAsync(fs2, Options(fs2) with { BlobMinBytes = 0, ValueFileRules = rules }); // separation off by size
        zero.Apply(1, [WriteOp.Put(B("h/a"), B("a value of some size"))]);
        await zero.FlushAsync();
        Assert.Empty(BlobFiles(fs2));
        Assert.Equal("a value of some size", S((await zero.GetAsync(B("h/a"), 0))!.Value.Value));
    }
}
