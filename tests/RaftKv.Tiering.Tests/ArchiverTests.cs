using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using RaftKv.Storage;

namespace RaftKv.Tiering.Tests;

[Collection("rgw")]
public sealed class ArchiverTests(RgwFixture rgw) : IAsyncLifetime
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "raftkv-tier-" + Guid.NewGuid().ToString("N"));
    private readonly string _bucket = "arch-" + Guid.NewGuid().ToString("N")[..12];
    private S3ObjectStore _s3 = null!;
    private S3ObjectStore _dead = null!;
    private SwitchableTableStore _remote = null!;

    public async Task InitializeAsync()
    {
        _s3 = new S3ObjectStore(rgw.Options(_bucket));
        _dead = new S3ObjectStore(rgw.Options(_bucket) with { Endpoint = "http://127.0.0.1:1", MaxRetries = 1, RequestTimeout = TimeSpan.FromSeconds(3) });
        await _s3.EnsureBucketAsync();
        _remote = new SwitchableTableStore(new ObjectStoreTableStore(_s3), new ObjectStoreTableStore(_dead));
    }

    public Task DisposeAsync()
    {
        _s3.Dispose();
        _dead.Dispose();
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }

        return Task.CompletedTask;
    }

    private static byte[] B(string s) => Encoding.UTF8.GetBytes(s);

    private Task<LsmStore> OpenAsync() => LsmStore.OpenAsync(new LsmOptions { Directory = _dir, RemoteStore = _remote, BackgroundWork = false, BlockSize = 1024 });

    private Archiver NewArchiver(LsmStore store, TimeSpan? grace = null) => new(
        store,
        _s3,
        rgw.Options(_bucket) with { DiskMaxBytes = 1, OrphanGrace = grace ?? TimeSpan.FromMinutes(10) },
        TimeProvider.System,
        NullLogger<Archiver>.Instance);

    private static async Task FillAsync(LsmStore store, long from, int count)
    {
        for (var i = 0; i < count; i++)
        {
            store.Apply(from + i, [WriteOp.Put(B($"key{from + i:D6}"), B($"value-{from + i}-{new string('x', 64)}"))]);
        }

        await store.FlushAsync();
    }

    [Fact]
    public async Task ArchivedTableIsReadBackThroughTheEngineFromObjectStorage()
    {
        await using (var store = await OpenAsync())
        {
            await FillAsync(store, 1, 500);
            var archiver = NewArchiver(store);
            var result = await archiver.RunOnceAsync();
            Assert.Equal(1, result.TablesMigrated);
            Assert.True(result.BytesUploaded > 0);
            Assert.Equal(store.GetStats().ArchivedMetadataBytes, store.LocalDiskBytes); // only archived tables' metadata is local
            var table = Assert.Single(store.ListTables());
            Assert.True(table.IsRemote);
            Assert.NotNull(await _s3.HeadAsync(table.ObjectName!));
            var hit = await store.GetAsync(B("key000250"), 0);
            Assert.Equal(Tier.Object, hit!.Value.Tier);
            Assert.StartsWith("value-250-", Encoding.UTF8.GetString(hit.Value.Value.Span));
            Assert.Equal(1, archiver.GetStats().MigrationsCompleted);
            Assert.Equal(1, archiver.GetStats().RemoteTables);
        }

        await using var reopened = await OpenAsync();
        Assert.Equal(Tier.Object, (await reopened.GetAsync(B("key000001"), 0))!.Value.Tier);
        var scanned = 0;
        await foreach (var e in reopened.ScanAsync(B("key"), B("kez"), 0, 0))
        {
            Assert.Equal(Tier.Object, e.Tier);
            scanned++;
        }

        Assert.Equal(500, scanned);
    }

    /// <summary>Under disk pressure the deepest level goes first: its tables are the coldest and the ones
    /// compactions rewrite least (an L0 table archived now would come back local at its next compaction).</summary>
    [Fact]
    public async Task DiskPressureArchivesTheDeepestLevelFirst()
    {
        // Creation times alone would pick an L0 table: the clock steps back after the deep table was written.
        var clock = new SettableClock(DateTimeOffset.FromUnixTimeSeconds(5_000));
        await using var store = await LsmStore.OpenAsync(new LsmOptions { Directory = _dir, RemoteStore = _remote, BackgroundWork = false, BlockSize = 1024, TimeProvider = clock });
        await FillAsync(store, 1, 400);
        await store.CompactAsync(0); // L1, created at 5,000 s
        clock.Now = DateTimeOffset.FromUnixTimeSeconds(1_000);
        await FillAsync(store, 1001, 400); // two L0 tables, created at 1,000 s
        await FillAsync(store, 2001, 400);
        var tables = store.ListTables();
        var deep = Assert.Single(tables, t => t.Level > 0);
        var l0 = tables.Where(t => t.Level == 0).ToList();
        Assert.Equal(2, l0.Count);

        // A limit that archiving any one table satisfies (an archived table keeps its tail and keys file locally, well
        // under half of it here, and the pass selects again while still over): the deep one goes, though the L0 tables
        // are older.
        var limit = store.LocalDiskBytes - (Math.Min(deep.SizeBytes, l0.Min(t => t.SizeBytes)) / 2);
        var archiver = new Archiver(store, _s3, rgw.Options(_bucket) with { DiskMaxBytes = limit }, TimeProvider.System, NullLogger<Archiver>.Instance);
        Assert.Equal(1, (await archiver.RunOnceAsync()).TablesMigrated);
        Assert.True(store.ListTables().Single(t => t.Id == deep.Id).IsRemote);
        Assert.All(store.ListTables().Where(t => t.Level == 0), t => Assert.False(t.IsRemote));
    }

    /// <summary>A pass is bounded when the limit cannot be reached: with every table it tries compacted away under
    /// it (a new local table each time, local bytes never below the limit), it ends after the round that archived
    /// nothing, its progress done (0 of 0), instead of selecting the new table again and again.</summary>
    [Fact]
    public async Task APassThatArchivesNothingEndsThoughTheStoreStaysOverTheLimit()
    {
        var store = new ChurningTieredStore(attemptsAllowed: 20);
        var archiver = new Archiver(store, _s3, rgw.Options(_bucket) with { DiskMaxBytes = 1 }, TimeProvider.System, NullLogger<Archiver>.Instance);
        Assert.Equal(0, (await archiver.RunOnceAsync()).TablesMigrated);
        Assert.Equal(1, store.Attempts);
        var p = archiver.Progress!;
        Assert.False(p.Running);
        Assert.Null(p.Error);
        Assert.Equal(p.TablesTotal, p.TablesDone);
    }

    /// <summary>Under a limit below what archived tables keep locally, the loop runs a disk-pressure pass at every
    /// table change, each finding nothing to archive: such a pass must leave the last real run's progress (the
    /// Maintenance page showed "Last run done: 0 of 0 tables" next to "Archived 1 table(s)", or "Running" of a
    /// pass that ended). A manual pass with nothing to do still shows.</summary>
    [Fact]
    public async Task BackgroundPassesThatFindNothingToArchiveLeaveTheLastRunsProgress()
    {
        var store = new ScriptedTieredStore();
        await using var archiver = new Archiver(store, _s3, rgw.Options(_bucket) with { DiskMaxBytes = 1, Interval = TimeSpan.FromHours(1) }, TimeProvider.System, NullLogger<Archiver>.Instance);
        Assert.Equal(1, (await archiver.RunOnceAsync()).TablesMigrated);
        var run = archiver.Progress!;
        Assert.Equal((false, 1, 1, null), (run.Running, run.TablesDone, run.TablesTotal, run.Error));

        // The loop: over the limit at once (a pass), then one pass per table change; each finds nothing.
        await archiver.StartAsync();
        for (var change = 0; change < 3; change++)
        {
            var iterations = store.LoopIterations;
            store.SignalTablesChange();
            await Eventually.TrueAsync(() => store.LoopIterations > iterations, TimeSpan.FromSeconds(30), "the loop ran its pass and came round again");
        }

        Assert.Same(run, archiver.Progress);

        Assert.Equal(0, (await archiver.RunOnceAsync()).TablesMigrated);
        Assert.Equal((false, 0, 0, null), (archiver.Progress!.Running, archiver.Progress.TablesDone, archiver.Progress.TablesTotal, archiver.Progress.Error));
    }

    [Fact]
    public async Task CrashBetweenUploadAndManifestLeavesTheLocalTableAndTheOrphanIsReconciled()
    {
        string objectName;
        await using (var store = await OpenAsync())
        {
            await FillAsync(store, 1, 200);
            var archiver = NewArchiver(store);
            objectName = archiver.ObjectName(store.ListTables()[0].Id);
            _remote.CrashAfterUpload = true;
            await Assert.ThrowsAnyAsync<IOException>(() => archiver.RunOnceAsync());
            _remote.CrashAfterUpload = false;
        }

        await using var reopened = await OpenAsync();
        var table = Assert.Single(reopened.ListTables());
        Assert.False(table.IsRemote);
        Assert.Equal(Tier.Disk, (await reopened.GetAsync(B("key000100"), 0))!.Value.Tier);
        Assert.NotNull(await _s3.HeadAsync(objectName)); // uploaded, never recorded

        var young = NewArchiver(reopened, grace: TimeSpan.FromHours(1));
        Assert.Equal(0, await young.ReconcileAsync()); // an object this recent might be an upload in flight
        var archiver2 = NewArchiver(reopened, grace: TimeSpan.Zero);
        Assert.Equal(1, await archiver2.ReconcileAsync());
        Assert.Null(await _s3.HeadAsync(objectName));
    }

    [Fact]
    public async Task ObjectStoreOutageFailsRemoteReadsOnlyAndTheArchiverResumes()
    {
        await using var store = await OpenAsync();
        await FillAsync(store, 1, 200);
        var archiver = NewArchiver(store);
        await archiver.RunOnceAsync();

        _remote.Down = true;
        await Assert.ThrowsAsync<RemoteTierUnavailableException>(async () => await store.GetAsync(B("key000150"), 0));
        store.Apply(1000, [WriteOp.Put(B("during-outage"), B("ok"))]); // writes are unaffected
        Assert.Equal(Tier.Memory, (await store.GetAsync(B("during-outage"), 0))!.Value.Tier);
        await store.FlushAsync();
        var failing = new Archiver(store, _dead, rgw.Options(_bucket) with { Endpoint = "http://127.0.0.1:1", DiskMaxBytes = 1 }, TimeProvider.System, NullLogger<Archiver>.Instance);
        await Assert.ThrowsAnyAsync<IOException>(() => failing.RunOnceAsync());
        Assert.Equal(1, failing.GetStats().Errors);
        Assert.Contains(store.ListTables(), t => !t.IsRemote); // the new table stayed local

        _remote.Down = false; // S3 is back
        Assert.NotNull(await store.GetAsync(B("key000150"), 0));
        var resumed = await archiver.RunOnceAsync();
        Assert.Equal(1, resumed.TablesMigrated);
        Assert.All(store.ListTables(), t => Assert.True(t.IsRemote));
    }

    [Fact]
    public async Task CompactionOverArchivedTablesDeletesObjectsOnlyAfterTheManifestIsDurable()
    {
        await using var store = await OpenAsync();
        await FillAsync(store, 1, 300);
        var archiver = NewArchiver(store);
        await archiver.RunOnceAsync();
        var archived = store.ListTables().Single().ObjectName!;
        store.Apply(5000, [WriteOp.Delete(B("key000001")), WriteOp.Put(B("key000002"), B("rewritten"))]);
        await store.CompactAsync(0);

        Assert.All(store.ListTables(), t => Assert.False(t.IsRemote)); // compaction output is local
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (await _s3.HeadAsync(archived) is not null)
        {
            Assert.True(DateTime.UtcNow < deadline, "the consumed object was never deleted");
            await Task.Delay(Poll.Interval);
        }

        Assert.Null(await store.GetAsync(B("key000001"), 0));
        Assert.Equal("rewritten", Encoding.UTF8.GetString((await store.GetAsync(B("key000002"), 0))!.Value.Value.Span));
        Assert.NotNull(await store.GetAsync(B("key000300"), 0));
    }
}
