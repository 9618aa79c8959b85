using Microsoft.Extensions.Logging.Abstractions;
using RaftKv.Tiering.Backups;

namespace RaftKv.Tiering.Tests.Backups;

/// <summary>
/// Two clusters (and a legacy, format version 1, backup) under one backup prefix, against a real S3 server: each
/// cluster's schedule sees only its own newest backup, its retention deletes only its own backups, a table stays while
/// any cluster's manifest (or a legacy one) references it, and a restore without a backup id refuses to choose a
/// cluster when several are listed.
/// </summary>
[Collection("rgw")]
public sealed class BackupClustersTests(RgwFixture rgw)
{
    private const string UidA = BackupBench.ClusterUid;
    private const string UidB = "fedcba9876543210fedcba9876543210";

    [Fact]
    public async Task RetentionOfOneClusterNeverDeletesAnotherClustersOrLegacyBackupsNorTheirTables()
    {
        await using var bench = await BackupBench.CreateAsync(rgw);
        await bench.FillAsync(100);
        var b1 = await BackupAsAsync(bench, UidB); // T1, B's only backup
        var legacy = await LegacyCopyAsync(bench, b1, "20000101T000000.000Z-n9-legacy01"); // T1 again, no uid
        await bench.Store.CompactAsync(0);
        await bench.FillAsync(100);
        await bench.Store.CompactAsync(0); // T2: T1's keys and more; T1 no longer in the store
        var a1 = await BackupAsAsync(bench, UidA);
        await bench.FillAsync(100);
        var a2 = await BackupAsAsync(bench, UidA);
        var a3 = await BackupAsAsync(bench, UidA);
        var t1 = b1.Files.Skip(1).Select(f => f.Key).ToHashSet();
        Assert.DoesNotContain(a3.Files.Select(f => f.Key), t1.Contains);

        var r = await bench.Catalog.ApplyRetentionAsync(new BackupRetention(1, TimeSpan.Zero), UidA, DateTimeOffset.UtcNow, TimeSpan.Zero, TimeSpan.FromHours(1));
        Assert.Equal([a3.Id], r.Retained.Select(b => b.Id));
        Assert.Equal(2, r.BackupsDeleted); // a1, a2: A's own only
        Assert.Equal(1, r.OtherClusters);
        Assert.Equal(1, r.Legacy);
        Assert.False(r.TablesSkipped);
        var listed = (await bench.Catalog.ListAsync()).Backups.Select(b => b.Id).ToHashSet();
        Assert.Equal([a3.Id, b1.Id, legacy.Id], listed.Order(StringComparer.Ordinal).Reverse());
        var tables = await bench.KeysAsync(bench.Layout.TablesPrefix);
        Assert.All(t1, k => Assert.Contains(k, tables)); // B's (and the legacy backup's) table, which no A backup references
        Assert.NotEmpty(await bench.KeysAsync(bench.Layout.CheckpointsPrefix + b1.Id + "/"));
        await bench.Catalog.DownloadAsync(b1, Path.Combine(bench.Root, "dl-b1")); // still complete

        // B's retention (keep 1) leaves A's backup and the legacy one; nothing of B's goes either (it is its newest).
        r = await bench.Catalog.ApplyRetentionAsync(new BackupRetention(1, TimeSpan.Zero), UidB, DateTimeOffset.UtcNow, TimeSpan.Zero, TimeSpan.FromHours(1));
        Assert.Equal(0, r.BackupsDeleted);
        Assert.Equal([a3.Id, b1.Id, legacy.Id], (await bench.Catalog.ListAsync()).Backups.Select(b => b.Id));
        await bench.Catalog.DownloadAsync(a3, Path.Combine(bench.Root, "dl-a3"));
        await bench.Catalog.DownloadAsync(legacy, Path.Combine(bench.Root, "dl-legacy"));
    }

    [Fact]
    public async Task TheNewestBackupIsPerClusterAndALegacyOneIsNoClustersNewest()
    {
        await using var bench = await BackupBench.CreateAsync(rgw);
        await bench.FillAsync(10);
        var a = await BackupAsAsync(bench, UidA);
        var b = await BackupAsAsync(bench, UidB);
        await LegacyCopyAsync(bench, b, "29991231T000000.000Z-n9-legacy02"); // the newest id of all

        Assert.Equal(a.Id, (await bench.Catalog.NewestOfAsync(UidA))!.Id);
        Assert.Equal(b.Id, (await bench.Catalog.NewestOfAsync(UidB))!.Id);
        Assert.Null(await bench.Catalog.NewestOfAsync("00000000000000000000000000000000"));

        var m = await bench.Catalog.ReadAsync(b.Id);
        Assert.Equal(UidB, m.ClusterUid);
        Assert.Contains($"RAFTKV-BACKUP-MANIFEST {BackupManifestFormat.Version} ", System.Text.Encoding.ASCII.GetString(await bench.ReadAsync(bench.Layout.ManifestKey(b.Id))), StringComparison.Ordinal);
    }

    /// <summary>Cluster A's schedule with cluster B's fresh backup in the bucket: A still takes its own (on main, A took
    /// B's backup for its newest and took none, while its backup age looked fresh).</summary>
    [Fact]
    public async Task AnotherClustersFreshBackupDoesNotStopThisClustersSchedule()
    {
        await using var bench = await BackupBench.CreateAsync(rgw);
        await bench.FillAsync(10);
        var b = await BackupAsAsync(bench, UidB);
        var options = new BackupOptions { Interval = TimeSpan.FromHours(1), Tick = TimeSpan.FromMilliseconds(50), Retention = new BackupRetention(1, TimeSpan.Zero), Layout = bench.Layout };
        var source = new Source(bench, UidA);
        await using (var scheduler = new BackupScheduler(source, bench.S3, bench.S3, options, TimeProvider.System, NullLogger<BackupScheduler>.Instance))
        {
            scheduler.Start();
            await Eventually.TrueAsync(() => scheduler.GetStats().Taken >= 1, TimeSpan.FromSeconds(60), "cluster A takes its own backup");
            var stats = scheduler.GetStats();
            Assert.Equal(UidA, stats.Newest!.ClusterUid);
            Assert.Equal(UidA, stats.ClusterUid);
        }

        var listing = await bench.Catalog.ListAsync();
        Assert.Equal(2, listing.Backups.Count);
        Assert.Contains(listing.Backups, m => m.Id == b.Id); // A's retention (1) kept B's only backup
    }

    [Fact]
    public async Task WithoutAClusterUidNoBackupIsTakenAndTheWaitIsReported()
    {
        await using var bench = await BackupBench.CreateAsync(rgw);
        await bench.FillAsync(10);
        var options = new BackupOptions { Interval = TimeSpan.FromMilliseconds(100), Tick = TimeSpan.FromMilliseconds(50), Layout = bench.Layout };
        var source = new Source(bench, null);
        await using var scheduler = new BackupScheduler(source, bench.S3, bench.S3, options, TimeProvider.System, NullLogger<BackupScheduler>.Instance) { UidWait = TimeSpan.FromMilliseconds(200) };
        scheduler.Start();
        await Eventually.TrueAsync(() => scheduler.GetStats().WaitingForClusterUid, TimeSpan.FromSeconds(60), "the scheduler reports it waits for the uid");
        Assert.Equal(BackupError.ClusterUidUnknown, (await Assert.ThrowsAsync<BackupException>(() => scheduler.RunOnceAsync())).Error);
        Assert.Equal(0, source.Checkpoints);
        Assert.Equal(0, scheduler.GetStats().Failures);

        source.Uid = UidA; // the leader replicated one
        await Eventually.TrueAsync(() => scheduler.GetStats().Taken >= 1, TimeSpan.FromSeconds(60), "backups start once the uid is known");
        Assert.False(scheduler.GetStats().WaitingForClusterUid);
        Assert.All((await bench.Catalog.ListAsync()).Backups, m => Assert.Equal(UidA, m.ClusterUid));
    }

    [Fact]
    public void ARestoreWithoutABackupIdPicksOnlyWhenOneClusterIsListed()
    {
        static BackupManifest M(string id, string? uid, long created) => new BackupManifest(id, 1, 1, created, 10, 1, 5, 0, [], [], 0) { ClusterUid = uid };
        var a1 = M("20261201T000000.000Z-n1-aaaaaaa1", UidA, 1000);
        var a2 = M("20261202T000000.000Z-n1-aaaaaaa2", UidA, 2000);
        var b1 = M("20261203T000000.000Z-n1-bbbbbbb1", UidB, 3000);
        var legacy = M("20261130T000000.000Z-n1-11111111", null, 500);

        Assert.Equal(a2.Id, BackupClusters.Of(new BackupListing([a2, a1], [])).PickNewest(null, "backups/").Id);
        Assert.Equal(legacy.Id, BackupClusters.Of(new BackupListing([legacy], [])).PickNewest(null, "backups/").Id); // as before: one (unknown) cluster

        var two = BackupClusters.Of(new BackupListing([b1, a2, a1], []));
        var e = Assert.Throws<BackupException>(() => two.PickNewest(null, "backups/"));
        Assert.Equal(BackupError.AmbiguousCluster, e.Error);
        Assert.Contains(UidA, e.Message, StringComparison.Ordinal);
        Assert.Contains(b1.Id, e.Message, StringComparison.Ordinal);
        Assert.Contains(a2.Id, e.Message, StringComparison.Ordinal);
        Assert.Equal(a2.Id, two.PickNewest(UidA, "backups/").Id);
        Assert.Equal(b1.Id, two.PickNewest(UidB.ToUpperInvariant(), "backups/").Id);
        Assert.Equal(BackupError.NoBackups, Assert.Throws<BackupException>(() => two.PickNewest("00000000000000000000000000000000", "backups/")).Error);

        var withLegacy = BackupClusters.Of(new BackupListing([a2, a1, legacy], [])); // a legacy backup counts as another cluster
        Assert.Equal(BackupError.AmbiguousCluster, Assert.Throws<BackupException>(() => withLegacy.PickNewest(null, "backups/")).Error);
        Assert.Equal(BackupError.NoBackups, Assert.Throws<BackupException>(() => BackupClusters.Of(new BackupListing([], [])).PickNewest(null, "backups/")).Error);
    }

    [Fact]
    public void ManifestFormatTwoCarriesTheUidAndFormatOneStillReads()
    {
        var m = new BackupManifest("20261203T010500.000Z-n2-0a1b2c3d", 0xfeedbeef12345678, 2, 1_764_000_000_000, 812, 3, 640, 100, [new BackupMember(1, "h1:7000")], [new BackupFile("CHECKPOINT", "backups/checkpoints/x/CHECKPOINT", 90, 7)], 90) { ClusterUid = UidB };
        var v2 = BackupManifestFormat.Encode(m);
        Assert.StartsWith("RAFTKV-BACKUP-MANIFEST 2 ", System.Text.Encoding.ASCII.GetString(v2), StringComparison.Ordinal);
        Assert.Equal(UidB, BackupManifestFormat.Decode(v2, "k").ClusterUid);

        var v1 = BackupManifestFormat.Encode(m with { ClusterUid = null }); // what earlier releases wrote
        Assert.StartsWith("RAFTKV-BACKUP-MANIFEST 1 ", System.Text.Encoding.ASCII.GetString(v1), StringComparison.Ordinal);
        var legacy = BackupManifestFormat.Decode(v1, "k");
        Assert.Null(legacy.ClusterUid);
        Assert.False(legacy.IsOf(null));
        Assert.Equal(m.Files, legacy.Files);

        // Version 2 without a well-formed uid is corrupt; a newer version is refused.
        var text = System.Text.Encoding.UTF8.GetString(v2);
        var body = text[(text.IndexOf('\n') + 1)..].Replace(UidB, "XYZ", StringComparison.Ordinal);
        var bad = System.Text.Encoding.UTF8.GetBytes($"RAFTKV-BACKUP-MANIFEST 2 {Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(body)))}\n{body}");
        Assert.Equal(BackupError.ManifestCorrupt, Assert.Throws<BackupException>(() => BackupManifestFormat.Decode(bad, "k")).Error);
        var v3 = System.Text.Encoding.UTF8.GetBytes(text.Replace("RAFTKV-BACKUP-MANIFEST 2 ", "RAFTKV-BACKUP-MANIFEST 3 ", StringComparison.Ordinal));
        Assert.Equal(BackupError.UnsupportedVersion, Assert.Throws<BackupException>(() => BackupManifestFormat.Decode(v3, "k")).Error);
    }

    /// <summary>One backup of a fresh checkpoint of the bench's store, as cluster <paramref name="uid"/>.</summary>
    private static async Task<BackupManifest> BackupAsAsync(BackupBench bench, string uid)
    {
        var dir = Path.Combine(bench.Root, "cp-" + Guid.NewGuid().ToString("N"));
        var index = await bench.Store.CheckpointAsync(dir);
        using var source = new BackupSource(dir, index, 1, index, 0, 1, 0xabcdef, [new BackupMember(1, "127.0.0.1:7000")], DateTimeOffset.UtcNow, () => Directory.Delete(dir, recursive: true)) { ClusterUid = uid };
        return await bench.Writer.WriteAsync(source, () => true, CancellationToken.None);
    }

    /// <summary>A legacy (format version 1, no uid) manifest <paramref name="id"/> with the files of <paramref name="of"/>.</summary>
    private static async Task<BackupManifest> LegacyCopyAsync(BackupBench bench, BackupManifest of, string id)
    {
        var legacy = of with { Id = id, ClusterUid = null };
        await BackupWriter.PutBytesAsync(bench.S3, bench.Layout.ManifestKey(id), BackupManifestFormat.Encode(legacy), bench.Root, CancellationToken.None);
        return legacy;
    }

    private sealed class Source(BackupBench bench, string? uid) : IBackupCheckpointSource
    {
        public int Checkpoints;

        private volatile string? _uid = uid;

        public bool IsBackupNode => true;

        public string? ClusterUid => _uid;

        public string? Uid
        {
            get => _uid;
            set => _uid = value;
        }

        public async Task<BackupSource> TakeCheckpointAsync(CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref Checkpoints);
            var dir = Path.Combine(bench.Root, "cp-" + Guid.NewGuid().ToString("N"));
            var index = await bench.Store.CheckpointAsync(dir, cancellationToken);
            return new BackupSource(dir, index, 1, index, 0, 1, 7, [], DateTimeOffset.UtcNow, () => Directory.Delete(dir, recursive: true)) { ClusterUid = _uid };
        }
    }
}
