using RaftKv.Storage.IO;
using RaftKv.TestSupport.IO;
using static RaftKv.Storage.Tests.Helpers;

namespace RaftKv.Storage.Tests;

public sealed class CorruptionTests
{
    private static LsmOptions Options(IFileSystem fs) => new()
    {
        Directory = "/db",
        FileSystem = fs,
        BackgroundWork = false,
        BlockSize = 256,
    };

    private static async Task<(CrashableMemoryFileSystem Fs, string Table)> StoreWithOneTable()
    {
        var fs = new CrashableMemoryFileSystem();
        await using var store = await LsmStore.OpenAsync(Options(fs));
        for (var i = 0; i < 100; i++)
        {
            store.Apply(i + 1, [WriteOp.Put(B($"k{i:D3}"), B($"value-{i}"))]);
        }

        await store.FlushAsync();
        return (fs, fs.ListFiles("/db").Single(f => f.EndsWith(".sst", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task FlippedByteInADataBlockIsReportedWithThePath()
    {
        var (fs, table) = await StoreWithOneTable();
        fs.Corrupt("/db/" + table, 10);
        await using var store = await LsmStore.OpenAsync(Options(fs));
        var e = await Assert.ThrowsAsync<StorageCorruptionException>(async () => await store.GetAsync(B("k000"), 0));
        Assert.Contains(table, e.Message);
        Assert.Contains("checksum", e.Message);
    }

    [Fact]
    public async Task FlippedByteInTheFooterFailsOpenWithThePath()
    {
        var (fs, table) = await StoreWithOneTable();
        fs.Corrupt("/db/" + table, fs.GetLength("/db/" + table) - 3);
        var e = await Assert.ThrowsAsync<StorageCorruptionException>(() => LsmStore.OpenAsync(Options(fs)));
        Assert.Contains(table, e.Message);
    }

    [Fact]
    public async Task TruncatedTableFailsOpenWithThePath()
    {
        var (fs, table) = await StoreWithOneTable();
        fs.Truncate("/db/" + table, fs.GetLength("/db/" + table) / 2);
        var e = await Assert.ThrowsAsync<StorageCorruptionException>(() => LsmStore.OpenAsync(Options(fs)));
        Assert.Contains(table, e.Message);
    }

    [Fact]
    public async Task CorruptManifestFailsOpenWithThePath()
    {
        var (fs, _) = await StoreWithOneTable();
        var manifest = fs.ListFiles("/db").Single(f => f.StartsWith("MANIFEST-", StringComparison.Ordinal));
        fs.Corrupt("/db/" + manifest, 14);
        var e = await Assert.ThrowsAsync<StorageCorruptionException>(() => LsmStore.OpenAsync(Options(fs)));
        Assert.Contains(manifest, e.Message);
    }

    [Fact]
    public async Task MissingTableFailsOpenRatherThanReadingEmpty()
    {
        var (fs, table) = await StoreWithOneTable();
        fs.Delete("/db/" + table);
        var e = await Assert.ThrowsAsync<StorageCorruptionException>(() => LsmStore.OpenAsync(Options(fs)));
        Assert.Contains(table, e.Message);
    }

    [Fact]
    public async Task CrashBeforeManifestEditLosesNothingDurable()
    {
        var fs = new CrashableMemoryFileSystem();
        await using (var store = await LsmStore.OpenAsync(Options(fs)))
        {
            store.Apply(1, [WriteOp.Put(B("a"), B("1"))]);
            await store.FlushAsync();
            store.Apply(2, [WriteOp.Put(B("b"), B("2"))]);
            fs.BeforeOperation = (op, _) =>
            {
                if (op == "sync")
                {
                    throw new IOException("power cut");
                }
            };
            await Assert.ThrowsAnyAsync<IOException>(() => store.FlushAsync());
            fs.BeforeOperation = null;
        }

        fs.Crash();
        await using var reopened = await LsmStore.OpenAsync(Options(fs));
        Assert.Equal(1, reopened.DurableIndex);
        Assert.NotNull(await reopened.GetAsync(B("a"), 0));
        Assert.DoesNotContain(fs.ListFiles("/db"), f => f.EndsWith(".tmp", StringComparison.Ordinal));
    }
}
