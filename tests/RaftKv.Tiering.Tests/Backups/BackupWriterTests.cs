using RaftKv.Storage;

namespace RaftKv.Tiering.Tests.Backups;

/// <summary>Incremental backups against a real S3 server (Ceph RGW): only tables earlier backups lack are
/// uploaded; archived tables are copied server-side so a backup restores without the archive tier.</summary>
[Collection("rgw")]
public sealed class BackupWriterTests(RgwFixture rgw)
{
    [Fact]
    public async Task EachBackupUploadsOnlyTheTablesEarlierBackupsLack()
    {
        await using var bench = await BackupBench.CreateAsync(rgw);
        await bench.FillAsync(300);
        var first = await bench.BackupAsync();
        var checkpoint1 = first.Files[0];
        Assert.Equal(LsmStore.CheckpointManifestName, checkpoint1.Name);
        Assert.Equal(first.DataBytes, first.UploadedBytes); // the first backup uploads everything
        Assert.Single(await bench.KeysAsync(bench.Layout.TablesPrefix));

        await bench.FillAsync(300);
        var second = await bench.BackupAsync();
        var newTable = Assert.Single(second.Files.Skip(1), f => !first.Files.Any(g => g.Key == f.Key));
        Assert.Equal(newTable.Size + second.Files[0].Size, second.UploadedBytes); // the new table and the checkpoint only
        Assert.Equal(2, (await bench.KeysAsync(bench.Layout.TablesPrefix)).Count);

        var unchanged = await bench.BackupAsync(bench.NewWriter()); // a restarted node: no hash cache
        Assert.Equal(unchanged.Files[0].Size, unchanged.UploadedBytes);
        Assert.Equal(second.Files.Skip(1).Select(f => f.Key), unchanged.Files.Skip(1).Select(f => f.Key));

        var listing = await bench.Catalog.ListAsync();
        Assert.Equal([unchanged.Id, second.Id, first.Id], listing.Backups.Select(b => b.Id));
        Assert.Empty(listing.Unreadable);
        Assert.Empty(await bench.KeysAsync(bench.Layout.PendingPrefix)); // complete backups leave no marker
        Assert.Equal(unchanged.Id, (await bench.Catalog.ReadAsync(null)).Id);
    }

    [Fact]
    public async Task ArchivedTablesAreCopiedAndTheBackupRestoresWithoutTheArchiveTier()
    {
        await using var bench = await BackupBench.CreateAsync(rgw);
        await bench.FillAsync(400);
        await bench.ArchiveAllAsync();
        await bench.FillAsync(100); // one local table too
        var tables = bench.Store.ListTables();
        Assert.Contains(tables, t => t.IsRemote);
        Assert.Contains(tables, t => !t.IsRemote);
        var m = await bench.BackupAsync();
        Assert.Contains(m.Files, f => f.Key.StartsWith(bench.Layout.TablesPrefix + "a", StringComparison.Ordinal));

        foreach (var archived in await bench.KeysAsync("nodes/"))
        {
            await bench.S3.DeleteAsync(archived); // the archive tier is gone (compacted away, or the cluster lost)
        }

        var dir = Path.Combine(bench.Root, "download");
        await bench.Catalog.DownloadAsync(m, dir);
        Assert.Equal(m.Files.Select(f => f.Name).Order(), Directory.GetFiles(dir).Select(Path.GetFileName).Order()!);
        await using var restored = await LsmStore.OpenAsync(new LsmOptions { Directory = Path.Combine(bench.Root, "restored"), BackgroundWork = false });
        await restored.IngestAsync(dir);
        foreach (var i in new[] { 1, 250, 400, 401, 500 })
        {
            var hit = await restored.GetAsync(BackupBench.B($"key{i:D6}"), 0);
            Assert.StartsWith($"value-{i}-", System.Text.Encoding.UTF8.GetString(hit!.Value.Value.Span), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task ValueFilesAreBackedUpOnceAndRestored()
    {
        await using var bench = await BackupBench.CreateAsync(rgw, blobMinBytes: 1024);
        await bench.FillAsync(100, padding: 3000);
        var first = await bench.BackupAsync();
        var blob = Assert.Single(first.Files, f => f.Name.EndsWith(".blob", StringComparison.Ordinal));
        Assert.True(blob.Size > 100 * 3000, $"the value file holds the values ({blob.Size} bytes)");
        Assert.StartsWith(bench.Layout.TablesPrefix + "v", blob.Key, StringComparison.Ordinal);

        var again = await bench.BackupAsync(bench.NewWriter()); // nothing new: the value file is not uploaded again
        Assert.Equal(again.Files[0].Size, again.UploadedBytes);

        var dir = Path.Combine(bench.Root, "download");
        await bench.Catalog.DownloadAsync(again, dir);
        await using var restored = await LsmStore.OpenAsync(new LsmOptions { Directory = Path.Combine(bench.Root, "restored"), BackgroundWork = false });
        await restored.IngestAsync(dir);
        Assert.Equal(1, restored.GetStats().BlobFiles);
        foreach (var i in new[] { 1, 50, 100 })
        {
            var hit = await restored.GetAsync(BackupBench.B($"key{i:D6}"), 0);
            Assert.Equal($"value-{i}-{new string('x', 3000)}", System.Text.Encoding.UTF8.GetString(hit!.Value.Value.Span));
        }
    }
}
