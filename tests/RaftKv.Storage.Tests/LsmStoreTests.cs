using RaftKv.Storage.IO;
using static RaftKv.Storage.Tests.Helpers;

namespace RaftKv.Storage.Tests;

public sealed class LsmStoreTests
{
    private static LsmOptions Options(string dir, IFileSystem? fs = null, IRemoteTableStore? remote = null) => new()
    {
        Directory = dir,
        FileSystem = fs ?? PhysicalFileSystem.Instance,
        MemtableMaxBytes = 64 << 10,
        BackgroundWork = false,
        BlockSize = 512,
        TargetFileBytes = 16 << 10,
        L1TargetBytes = 32 << 10,
        RemoteStore = remote,
    };

    [Fact]
    public async Task PutGetDeleteAcrossFlushAndReopen()
    {
        using var tmp = new TempDir();
        await using (var store = await LsmStore.OpenAsync(Options(tmp.Path)))
        {
            store.Apply(1, [WriteOp.Put(B("a"), B("1")), WriteOp.Put(B("b"), B("2"))]);
            Assert.Equal(Tier.Memory, (await store.GetAsync(B("a"), 0))!.Value.Tier);
            await store.FlushAsync();
            Assert.Equal(1, store.DurableIndex);
            var a = await store.GetAsync(B("a"), 0);
            Assert.Equal("1", S(a!.Value.Value));
            Assert.Equal(Tier.Disk, a.Value.Tier);
            Assert.Equal(1, a.Value.Version);
            store.Apply(2, [WriteOp.Delete(B("a"))]);
            Assert.Null(await store.GetAsync(B("a"), 0));
            await store.FlushAsync();
        }

        await using (var store = await LsmStore.OpenAsync(Options(tmp.Path)))
        {
            Assert.Equal(2, store.DurableIndex);
            Assert.Equal(2, store.AppliedIndex);
            Assert.Null(await store.GetAsync(B("a"), 0));
            Assert.Equal("2", S((await store.GetAsync(B("b"), 0))!.Value.Value));
            store.Apply(2, [WriteOp.Put(B("a"), B("replayed"))]); // index ≤ applied: ignored
            Assert.Null(await store.GetAsync(B("a"), 0));
        }
    }

    [Fact]
    public async Task AValueWrittenInTwoPartsReadsAsOneFromMemoryAndDisk()
    {
        using var tmp = new TempDir();
        await using var store = await LsmStore.OpenAsync(Options(tmp.Path));
        var tail = B(new string('t', 3000));
        store.Apply(1, [WriteOp.Put(B("k"), B("head-"), tail, expiresAtUnixMs: 5000), WriteOp.Put(B("e"), B("h"), ReadOnlyMemory<byte>.Empty)]);
        var expected = "head-" + S(tail);
        Assert.Equal(expected, S((await store.GetAsync(B("k"), 0))!.Value.Value));
        Assert.Equal(expected.Length, store.GetMetadata(B("k"), 0)!.Value.ValueLength);
        await store.FlushAsync();
        var onDisk = (await store.GetAsync(B("k"), 0))!.Value;
        Assert.Equal(expected, S(onDisk.Value));
        Assert.Equal(5000, onDisk.ExpiresAtUnixMs);
        Assert.Equal("h", S((await store.GetAsync(B("e"), 0))!.Value.Value));
    }

    [Fact]
    public async Task TtlIsJudgedAgainstTheCallersClockAndDroppedByCompaction()
    {
        using var tmp = new TempDir();
        await using var store = await LsmStore.OpenAsync(Options(tmp.Path));
        store.Apply(1, [WriteOp.Put(B("t"), B("v"), expiresAtUnixMs: 1000), WriteOp.Put(B("p"), B("v"))]);
        Assert.NotNull(await store.GetAsync(B("t"), 999));
        Assert.Null(await store.GetAsync(B("t"), 1000));
        Assert.Single(await ScanAll(store, now: 1000));
        await store.CompactAsync(1000);
        Assert.Null(await store.GetAsync(B("t"), 0)); // physically gone after compaction at the bottom level
        Assert.Equal(1, store.GetStats().DiskEntries);
    }

    [Fact]
    public async Task StatsReportPendingCompactionUntilTheTreeIsSettled()
    {
        using var tmp = new TempDir();
        await using var store = await LsmStore.OpenAsync(Options(tmp.Path) with { L0CompactionTrigger = 2 });
        Assert.False(store.GetStats().CompactionPending);
        store.Apply(1, [WriteOp.Put(B("a"), B("1"))]);
        await store.FlushAsync();
        Assert.False(store.GetStats().CompactionPending); // one L0 table: below the trigger
        store.Apply(2, [WriteOp.Put(B("b"), B("2"))]);
        await store.FlushAsync();
        Assert.True(store.GetStats().CompactionPending); // two L0 tables: L0→L1 is due
        await store.CompactAsync(0);
        var stats = store.GetStats();
        Assert.False(stats.CompactionPending);
        Assert.Equal(0, stats.TablesPerLevel[0]);
    }

    [Fact]
    public async Task EachScanEnumerationTakesItsSnapshotWhenItStartsMoving()
    {
        using var tmp = new TempDir();
        await using var store = await LsmStore.OpenAsync(Options(tmp.Path));
        store.Apply(1, [WriteOp.Put(B("a"), B("1"))]);
        var results = store.ScanAsync(B(""), B(""), 0, 0);
        store.Apply(2, [WriteOp.Put(B("b"), B("2"))]);

        var first = results.GetAsyncEnumerator();
        Assert.True(await first.MoveNextAsync());
        Assert.Equal("a", S(first.Current.Key));
        store.Apply(3, [WriteOp.Put(B("c"), B("3")), WriteOp.Delete(B("b"))]);
        await store.FlushAsync(); // the pinned view keeps seeing the memtable it started on
        Assert.True(await first.MoveNextAsync());
        Assert.Equal("b", S(first.Current.Key));
        Assert.False(await first.MoveNextAsync());
        Assert.False(await first.MoveNextAsync()); // stays at the end
        await first.DisposeAsync();

        var second = new List<string>();
        await foreach (var e in results)
        {
            second.Add(S(e.Key));
        }

        Assert.Equal(["a", "c"], second);
        await using var limited = store.ScanAsync(B(""), B(""), 1, 0).GetAsyncEnumerator();
        Assert.True(await limited.MoveNextAsync());
        Assert.False(await limited.MoveNextAsync());
    }

    [Fact]
    public async Task ScanHonoursRangeLimitAndShadowing()
    {
        using var tmp = new TempDir();
        await using var store = await LsmStore.OpenAsync(Options(tmp.Path));
        long idx = 0;
        for (var i = 0; i < 300; i++)
        {
            store.Apply(++idx, [WriteOp.Put(B($"k{i:D4}"), B($"v{i}"))]);
        }

        await store.FlushAsync();
        for (var i = 0; i < 300; i += 3)
        {
            store.Apply(++idx, [WriteOp.Delete(B($"k{i:D4}"))]);
        }

        store.Apply(++idx, [WriteOp.Put(B("k0001"), B("new"))]);
        var all = await ScanAll(store, "k0000", "k0010");
        Assert.Equal(["k0001", "k0002", "k0004", "k0005", "k0007", "k0008"], all.Select(e => S(e.Key)));
        Assert.Equal("new", S(all[0].Value));
        Assert.Equal(3, (await ScanAll(store, "k", "", limit: 3)).Count);
        Assert.Equal(200, (await ScanAll(store)).Count);
    }

    [Fact]
    public async Task ScanSeesAConsistentPointInTime()
    {
        using var tmp = new TempDir();
        await using var store = await LsmStore.OpenAsync(Options(tmp.Path));
        for (var i = 0; i < 1000; i++)
        {
            store.Apply(i + 1, [WriteOp.Put(B($"k{i:D4}"), B("old"))]);
        }

        var seen = new List<KvEntry>();
        var applied = false;
        await foreach (var e in store.ScanAsync(B(""), B(""), 0, 0))
        {
            seen.Add(e);
            if (!applied)
            {
                store.Apply(5000, [WriteOp.Put(B("k0999"), B("new")), WriteOp.Put(B("k9999"), B("new"))]);
                applied = true;
            }
        }

        Assert.Equal(1000, seen.Count);
        Assert.All(seen, e => Assert.Equal("old", S(e.Value)));
    }

    [Fact]
    public async Task CheckpointAndIngestReplaceTheWholeState()
    {
        using var a = new TempDir();
        using var b = new TempDir();
        using var cp = new TempDir();
        await using var source = await LsmStore.OpenAsync(Options(a.Path));
        for (var i = 0; i < 500; i++)
        {
            source.Apply(i + 1, [WriteOp.Put(B($"k{i:D4}"), B($"v{i}"))]);
        }

        var index = await source.CheckpointAsync(Path.Combine(cp.Path, "snap"));
        Assert.Equal(500, index);

        await using var target = await LsmStore.OpenAsync(Options(b.Path));
        target.Apply(1, [WriteOp.Put(B("zzz"), B("stale"))]);
        await target.IngestAsync(Path.Combine(cp.Path, "snap"));
        Assert.Equal(500, target.AppliedIndex);
        Assert.Equal(500, target.DurableIndex);
        Assert.Null(await target.GetAsync(B("zzz"), 0));
        Assert.Equal(500, (await ScanAll(target)).Count);
        await target.DisposeAsync();
        await using var reopened = await LsmStore.OpenAsync(Options(b.Path));
        Assert.Equal("v42", S((await reopened.GetAsync(B("k0042"), 0))!.Value.Value));
    }

    [Fact]
    public async Task ArchivedTablesAreReadFromTheObjectTierAndDeletedAfterCompaction()
    {
        using var dir = new TempDir();
        using var objects = new TempDir();
        var remote = new DirectoryRemoteTableStore(objects.Path);
        await using var store = await LsmStore.OpenAsync(Options(dir.Path, remote: remote));
        for (var i = 0; i < 200; i++)
        {
            store.Apply(i + 1, [WriteOp.Put(B($"k{i:D4}"), B($"v{i}"))]);
        }

        await store.FlushAsync();
        var table = Assert.Single(store.ListTables());
        Assert.True(await store.ArchiveTableAsync(table.Id, "node-1/t1.sst"));
        Assert.True(store.ListTables().Single().IsRemote);
        Assert.Equal(store.GetStats().ArchivedMetadataBytes, store.LocalDiskBytes); // tail + keys file only
        Assert.True(store.LocalDiskBytes > 0); // values this short are inline in the keys file: counted
        Assert.Empty(OpenDeletedFiles(dir.Path)); // the deleted data file's space is freed now, not at compaction
        var hit = await store.GetAsync(B("k0100"), 0);
        Assert.Equal(Tier.Object, hit!.Value.Tier);
        Assert.Equal("v100", S(hit.Value.Value));

        remote.Available = false;
        await Assert.ThrowsAsync<RemoteTierUnavailableException>(async () => await store.GetAsync(B("k0150"), 0));
        store.Apply(1000, [WriteOp.Put(B("new"), B("x"))]); // writes are unaffected
        remote.Available = true;

        await store.CompactAsync(0);
        Assert.All(store.ListTables(), t => Assert.False(t.IsRemote));
        Assert.Equal(1, remote.Deletes);
        Assert.Equal(201, (await ScanAll(store)).Count);
    }

    [Fact]
    public async Task ArchivedTablesSurviveReopen()
    {
        using var dir = new TempDir();
        using var objects = new TempDir();
        var remote = new DirectoryRemoteTableStore(objects.Path);
        await using (var store = await LsmStore.OpenAsync(Options(dir.Path, remote: remote)))
        {
            store.Apply(1, [WriteOp.Put(B("a"), B("1"))]);
            await store.FlushAsync();
            Assert.True(await store.ArchiveTableAsync(store.ListTables()[0].Id, "n/a.sst"));
        }

        await using var again = await LsmStore.OpenAsync(Options(dir.Path, remote: remote));
        Assert.Equal(Tier.Object, (await again.GetAsync(B("a"), 0))!.Value.Tier);
    }

    /// <summary>Files under <paramref name="dir"/> this process still holds open although they were
    /// deleted (Linux: /proc/self/fd links ending in " (deleted)"): their disk space is not freed.</summary>
    private static List<string> OpenDeletedFiles(string dir)
    {
        var open = new List<string>();
        foreach (var fd in Directory.EnumerateFileSystemEntries("/proc/self/fd"))
        {
            try
            {
                if (new FileInfo(fd).LinkTarget is { } target && target.StartsWith(dir, StringComparison.Ordinal) && target.EndsWith(" (deleted)", StringComparison.Ordinal))
                {
                    open.Add(target);
                }
            }
            catch (IOException)
            {
                // the descriptor closed while we looked
            }
        }

        return open;
    }
}
