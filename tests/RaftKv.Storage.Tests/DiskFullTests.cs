using RaftKv.Storage.IO;
using RaftKv.TestSupport.IO;
using static RaftKv.Storage.Tests.Helpers;

namespace RaftKv.Storage.Tests;

/// <summary>
/// ENOSPC while a memtable is flushed to a table: the flush fails with <see cref="DiskFullException"/>,
/// the memtable's entries stay readable, the manifest is untouched, no partial table is left, and the
/// same flush succeeds once space is back; a power cut then keeps everything flushed. The same for a
/// compaction with several outputs, whose finished tables are fsynced in the background while it merges on.
/// </summary>
public sealed class DiskFullTests
{
    private static LsmOptions Options(IFileSystem fs) => new()
    {
        Directory = "/db",
        FileSystem = fs,
        BackgroundWork = false,
    };

    [Theory]
    [InlineData("append")]
    [InlineData("sync")]
    public async Task MemtableFlushOutOfSpaceKeepsTheMemtableAndRetries(string operation)
    {
        var fs = new CrashableMemoryFileSystem();
        await using (var store = await LsmStore.OpenAsync(Options(fs)))
        {
            store.Apply(1, [WriteOp.Put(B("a"), B("1"))]);
            await store.FlushAsync();
            var tablesBefore = fs.ListFiles("/db").Count;
            store.Apply(2, [WriteOp.Put(B("b"), B("2"))]);
            fs.BeforeOperation = (op, path) =>
            {
                if (op == operation && !path.Contains("MANIFEST", StringComparison.OrdinalIgnoreCase))
                {
                    throw new DiskFullException("no space left on device (injected)");
                }
            };
            await Assert.ThrowsAsync<DiskFullException>(() => store.FlushAsync());
            fs.BeforeOperation = null;

            Assert.Equal(tablesBefore, fs.ListFiles("/db").Count); // no partial table left behind
            Assert.Equal(1, store.DurableIndex);
            Assert.NotNull(await store.GetAsync(B("b"), 0));

            await store.FlushAsync(); // space is back
            Assert.Equal(2, store.DurableIndex);
        }

        fs.Crash();
        await using var reopened = await LsmStore.OpenAsync(Options(fs));
        Assert.Equal(2, reopened.DurableIndex);
        Assert.NotNull(await reopened.GetAsync(B("a"), 0));
        Assert.NotNull(await reopened.GetAsync(B("b"), 0));
    }

    /// <summary>Out of space at the first output's fsync (in the background, while later outputs are written)
    /// or at the creation of the second output (while the first one's fsync may still run): the compaction
    /// fails, every output it wrote is deleted, the inputs stay live, and it succeeds once space is back.</summary>
    [Theory]
    [InlineData("sync", 1)]
    [InlineData("create", 2)]
    public async Task CompactionOutOfSpaceDeletesItsOutputsAndRetries(string operation, int nth)
    {
        var fs = new CrashableMemoryFileSystem();
        var options = Options(fs) with { BlockSize = 512, TargetFileBytes = 4 << 10, L0CompactionTrigger = 100 };
        const int keys = 600;
        await using (var store = await LsmStore.OpenAsync(options))
        {
            long index = 0;
            for (var run = 0; run < 2; run++)
            {
                for (var i = run * 100; i < keys; i++)
                {
                    store.Apply(++index, [WriteOp.Put(B($"key{i:D5}"), B($"value{run}-{i}-" + new string('x', 40)))]);
                }

                await store.FlushAsync();
            }

            var filesBefore = Tables(fs);
            var seen = 0;
            fs.BeforeOperation = (op, path) =>
            {
                if (op == operation && path.EndsWith(".sst", StringComparison.Ordinal) && Interlocked.Increment(ref seen) == nth)
                {
                    throw new DiskFullException("no space left on device (injected)");
                }
            };
            await Assert.ThrowsAsync<DiskFullException>(() => store.CompactAsync(0));
            fs.BeforeOperation = null;

            Assert.Equal(filesBefore, Tables(fs)); // no output left behind
            Assert.Equal(2, store.GetStats().TablesPerLevel[0]);
            await AssertLatestAsync(store);

            await store.CompactAsync(0); // space is back
            Assert.Equal(0, store.GetStats().TablesPerLevel[0]);
            Assert.True(store.GetStats().TablesPerLevel.Sum() > 1, "several outputs");
            await AssertLatestAsync(store);
        }

        fs.Crash();
        await using var reopened = await LsmStore.OpenAsync(options);
        await AssertLatestAsync(reopened);

        static List<string> Tables(CrashableMemoryFileSystem fs) => [.. fs.ListFiles("/db").Where(f => f.EndsWith(".sst", StringComparison.Ordinal)).Order(StringComparer.Ordinal)];

        static async Task AssertLatestAsync(LsmStore s)
        {
            for (var i = 0; i < keys; i++)
            {
                var e = await s.GetAsync(B($"key{i:D5}"), 0);
                Assert.Equal($"value{(i < 100 ? 0 : 1)}-{i}-" + new string('x', 40), System.Text.Encoding.UTF8.GetString(e!.Value.Value.Span));
            }
        }
    }
}
