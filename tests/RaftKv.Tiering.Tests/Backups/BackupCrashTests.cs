using RaftKv.Storage;

namespace RaftKv.Tiering.Tests.Backups;

/// <summary>
/// The backup writer killed at every step of a backup (each put, copy and delete it makes, against real
/// Ceph RGW): the half-done backup is never listed, the last complete one still restores, the next backup
/// (a restarted node: no hash cache) completes, and garbage collection leaves exactly what the listed
/// backups reference — no orphan table, checkpoint or pending marker.
/// </summary>
[Collection("rgw")]
public sealed class BackupCrashTests(RgwFixture rgw)
{
    [Fact]
    public async Task AWriterKilledAtAnyStepLeavesOnlyCompleteBackupsAndNoOrphans()
    {
        var crashPoints = 0;
        for (var crashAt = 1; ; crashAt++)
        {
            await using var bench = await BackupBench.CreateAsync(rgw);
            await bench.FillAsync(300);
            var complete = await bench.BackupAsync();
            await bench.FillAsync(300);
            await bench.ArchiveAllAsync(); // archived tables are copied server-side: copies are crash points too
            await bench.FillAsync(100);

            var crashing = new CrashingObjectStore(bench.S3, crashAt);
            try
            {
                await bench.BackupAsync(new RaftKv.Tiering.Backups.BackupWriter(crashing, bench.S3, bench.Layout));
            }
            catch (SimulatedCrashException)
            {
            }

            if (!crashing.Crashed)
            {
                break; // the backup needs fewer mutations than crashAt: every step was covered
            }

            crashPoints++;
            var listing = await bench.Catalog.ListAsync();
            Assert.Empty(listing.Unreadable);

            // Listed only if its manifest was written before the crash (then only its marker's delete was lost).
            var survivors = listing.Backups.Where(b => b.Id != complete.Id).ToList();
            var manifestWritten = crashing.Written.Any(k => k.StartsWith(bench.Layout.ManifestsPrefix, StringComparison.Ordinal));
            Assert.Equal(manifestWritten ? 1 : 0, survivors.Count);
            Assert.Contains(listing.Backups, b => b.Id == complete.Id);
            await AssertRestoresAsync(bench, complete, 300);
            foreach (var s in survivors)
            {
                await AssertRestoresAsync(bench, s, 700);
            }

            var next = await bench.BackupAsync(bench.NewWriter());
            var all = (await bench.Catalog.ListAsync()).Backups;
            Assert.Equal(next.Id, all[0].Id);
            Assert.Equal(2 + survivors.Count, all.Count);

            var gc = await bench.Catalog.ApplyRetentionAsync(new RaftKv.Tiering.Backups.BackupRetention(10, TimeSpan.Zero), BackupBench.ClusterUid, DateTimeOffset.UtcNow.AddMinutes(5), TimeSpan.Zero, TimeSpan.Zero);
            Assert.False(gc.TablesSkipped);
            var referenced = all.SelectMany(b => b.Files).Select(f => f.Key).ToHashSet(StringComparer.Ordinal);
            Assert.Equal(referenced.Where(k => k.StartsWith(bench.Layout.TablesPrefix, StringComparison.Ordinal)).Order(), (await bench.KeysAsync(bench.Layout.TablesPrefix)).Order());
            Assert.All(await bench.KeysAsync(bench.Layout.CheckpointsPrefix), k => Assert.Contains(k, referenced));
            Assert.Empty(await bench.KeysAsync(bench.Layout.PendingPrefix));
            await AssertRestoresAsync(bench, next, 700);
        }

        Assert.True(crashPoints >= 5, $"only {crashPoints} crash points were exercised");
    }

    private static async Task AssertRestoresAsync(BackupBench bench, RaftKv.Tiering.Backups.BackupManifest backup, int keys)
    {
        var dir = Path.Combine(bench.Root, "download-" + Guid.NewGuid().ToString("N"));
        await bench.Catalog.DownloadAsync(backup, dir);
        await using var restored = await LsmStore.OpenAsync(new LsmOptions { Directory = Path.Combine(bench.Root, "restored-" + Guid.NewGuid().ToString("N")), BackgroundWork = false });
        await restored.IngestAsync(dir);
        var count = 0;
        await foreach (var unused in restored.ScanAsync(BackupBench.B("key"), BackupBench.B("kez"), 0, 0))
        {
            count++;
        }

        Assert.Equal(keys, count);
    }
}
