using RaftKv.Tiering.Backups;

namespace RaftKv.Tiering.Tests.Backups;

/// <summary>Retention against a real S3 server: deleting old backups deletes only the tables no retained
/// backup references, never the archive tier's objects; an unreadable manifest stops table deletion.</summary>
[Collection("rgw")]
public sealed class BackupRetentionTests(RgwFixture rgw)
{
    [Fact]
    public async Task DeletingOldBackupsKeepsTablesRetainedBackupsShare()
    {
        await using var bench = await BackupBench.CreateAsync(rgw);
        await bench.FillAsync(200);
        var b1 = await bench.BackupAsync(); // T1
        await bench.FillAsync(200);
        var b2 = await bench.BackupAsync(); // T1 T2
        await bench.Store.CompactAsync(0);
        var b3 = await bench.BackupAsync(); // T3 (T1 + T2 merged)
        await bench.FillAsync(200);
        await bench.ArchiveAllAsync(); // T3, T4 archived: the archive tier holds objects under nodes/1/
        var b4 = await bench.BackupAsync(); // T3' T4' (copies of the archived ones)
        var archive = await bench.KeysAsync("nodes/");
        Assert.NotEmpty(archive);

        var r = await bench.Catalog.ApplyRetentionAsync(new BackupRetention(3, TimeSpan.Zero), BackupBench.ClusterUid, DateTimeOffset.UtcNow, TimeSpan.Zero, TimeSpan.FromHours(1));
        Assert.Equal(1, r.BackupsDeleted);
        Assert.False(r.TablesSkipped);
        Assert.Equal(0, r.TablesDeleted); // b1's only table is b2's too
        var tables = await bench.KeysAsync(bench.Layout.TablesPrefix);
        Assert.All(b2.Files.Skip(1), f => Assert.Contains(f.Key, tables));
        await Assert.ThrowsAsync<BackupException>(() => bench.Catalog.ReadAsync(b1.Id));
        Assert.Empty(await bench.KeysAsync(bench.Layout.CheckpointsPrefix + b1.Id + "/"));

        r = await bench.Catalog.ApplyRetentionAsync(new BackupRetention(2, TimeSpan.Zero), BackupBench.ClusterUid, DateTimeOffset.UtcNow, TimeSpan.Zero, TimeSpan.FromHours(1));
        Assert.Equal(1, r.BackupsDeleted);
        Assert.Equal(b2.Files.Skip(1).Count(), r.TablesDeleted); // T1 and T2: no retained backup has them
        var keep = b3.Files.Concat(b4.Files).Select(f => f.Key).ToHashSet();
        Assert.Equal(keep.Where(k => k.StartsWith(bench.Layout.TablesPrefix, StringComparison.Ordinal)).Order(), (await bench.KeysAsync(bench.Layout.TablesPrefix)).Order());
        Assert.Equal(archive, await bench.KeysAsync("nodes/")); // the live archive tier is never touched
        Assert.Equal([b4.Id, b3.Id], (await bench.Catalog.ListAsync()).Backups.Select(b => b.Id));

        foreach (var m in new[] { b3, b4 })
        {
            await bench.Catalog.DownloadAsync(m, Path.Combine(bench.Root, "dl-" + m.Id)); // still complete
        }
    }

    [Fact]
    public async Task AnUnreadableManifestStopsTableDeletionAndIsReportedByName()
    {
        await using var bench = await BackupBench.CreateAsync(rgw);
        await bench.FillAsync(200);
        var b1 = await bench.BackupAsync();
        await bench.Store.CompactAsync(0);
        await bench.FillAsync(200);
        var b2 = await bench.BackupAsync();
        var b3 = await bench.BackupAsync();
        var key = bench.Layout.ManifestKey(b2.Id);
        var bytes = await bench.ReadAsync(key);
        bytes[^10] ^= 0x20;
        await bench.OverwriteAsync(key, bytes);

        var e = await Assert.ThrowsAsync<BackupException>(() => bench.Catalog.ReadAsync(b2.Id));
        Assert.Equal(BackupError.ManifestCorrupt, e.Error);
        Assert.Contains(key, e.Message, StringComparison.Ordinal);
        var listing = await bench.Catalog.ListAsync();
        Assert.Equal([b3.Id, b1.Id], listing.Backups.Select(b => b.Id));
        Assert.Equal(key, Assert.Single(listing.Unreadable).Key);

        var before = await bench.KeysAsync(bench.Layout.TablesPrefix);
        var r = await bench.Catalog.ApplyRetentionAsync(new BackupRetention(1, TimeSpan.Zero), BackupBench.ClusterUid, DateTimeOffset.UtcNow, TimeSpan.Zero, TimeSpan.FromHours(1));
        Assert.True(r.TablesSkipped);
        Assert.Equal(1, r.BackupsDeleted); // b1's manifest
        Assert.Equal(before, await bench.KeysAsync(bench.Layout.TablesPrefix)); // b2 might reference any of them
    }

    [Theory]
    [InlineData("7", 7, 0.0)]
    [InlineData("", 7, 0.0)]
    [InlineData("72h", 0, 72.0)]
    [InlineData("30m", 0, 0.5)]
    [InlineData("2d", 0, 48.0)]
    public void RetentionIsACountOrAnAge(string text, int count, double hours)
    {
        var r = BackupRetention.Parse(text)!;
        Assert.Equal(count, r.Count);
        Assert.Equal(TimeSpan.FromHours(hours), r.MaxAge);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-1")]
    [InlineData("3x")]
    [InlineData("h")]
    public void MalformedRetentionIsRefused(string text) => Assert.Null(BackupRetention.Parse(text));

    [Fact]
    public void AgeRetentionAlwaysKeepsTheNewest()
    {
        var now = DateTimeOffset.UtcNow;
        BackupManifest At(string id, TimeSpan ago) => new(id, 1, 1, (now - ago).ToUnixTimeMilliseconds(), 1, 1, 1, 0, [], [], 0);
        var old = new[] { At("b", TimeSpan.FromHours(80)), At("a", TimeSpan.FromHours(90)) };
        Assert.Equal(["b"], new BackupRetention(0, TimeSpan.FromHours(72)).Retained(old, now).Select(m => m.Id));
        var mixed = new[] { At("c", TimeSpan.FromHours(1)), At("b", TimeSpan.FromHours(80)) };
        Assert.Equal(["c"], new BackupRetention(0, TimeSpan.FromHours(72)).Retained(mixed, now).Select(m => m.Id));
    }
}
