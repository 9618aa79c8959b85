using RaftKv.Storage.IO;
using RaftKv.TestSupport.IO;
using static RaftKv.Storage.Tests.Helpers;

namespace RaftKv.Storage.Tests;

/// <summary>
/// ENOSPC while a memtable is flushed to a table: the flush fails with <see cref="DiskFullException"/>,
/// the memtable's entries stay readable, the manifest is untouched, no partial table is left, and the
/// same flush succeeds once space is back; a power cut then keeps everything flushed.
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
}
