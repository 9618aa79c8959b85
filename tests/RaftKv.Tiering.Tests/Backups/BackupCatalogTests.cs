using System.Text;
using RaftKv.Tiering.Backups;

namespace RaftKv.Tiering.Tests.Backups;

/// <summary>What a restore reads, against a real S3 server: a corrupt manifest, a missing or damaged table and a
/// newer manifest version are clear errors (typed, naming the object), never a partial restore.</summary>
[Collection("rgw")]
public sealed class BackupCatalogTests(RgwFixture rgw)
{
    [Fact]
    public async Task MissingOrDamagedTablesAreRefusedByName()
    {
        await using var bench = await BackupBench.CreateAsync(rgw);
        await bench.FillAsync(200);
        await bench.FillAsync(200);
        var m = await bench.BackupAsync();
        var tables = m.Files.Skip(1).ToList();
        Assert.Equal(2, tables.Count);

        await bench.S3.DeleteAsync(tables[0].Key);
        var missing = await Assert.ThrowsAsync<BackupException>(() => bench.Catalog.DownloadAsync(m, Path.Combine(bench.Root, "d1")));
        Assert.Equal(BackupError.TableMissing, missing.Error);
        Assert.Contains(tables[0].Key, missing.Message, StringComparison.Ordinal);

        var damaged = await bench.ReadAsync(tables[1].Key);
        damaged[damaged.Length / 2] ^= 0x01;
        await bench.OverwriteAsync(tables[1].Key, damaged); // same size, another content (and a matching stored CRC)
        var again = await bench.BackupAsync(); // re-uploads the missing table, references the damaged one as stored
        var corrupt = await Assert.ThrowsAsync<BackupException>(() => bench.Catalog.DownloadAsync(again, Path.Combine(bench.Root, "d2")));
        Assert.Equal(BackupError.TableCorrupt, corrupt.Error);
        Assert.Contains(tables[1].Key, corrupt.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NoBackupsOrAnUnknownIdAreTypedErrors()
    {
        await using var bench = await BackupBench.CreateAsync(rgw);
        Assert.Equal(BackupError.NoBackups, (await Assert.ThrowsAsync<BackupException>(() => bench.Catalog.ReadAsync(null))).Error);
        Assert.Equal(BackupError.NotFound, (await Assert.ThrowsAsync<BackupException>(() => bench.Catalog.ReadAsync("20260101T000000Z-n1-deadbeef"))).Error);
    }

    [Fact]
    public void ManifestRoundTripsAndRefusesDamageAndNewerVersions()
    {
        var m = new BackupManifest("20261203T010500Z-n2-0a1b2c3d", 0xfeedbeef12345678, 2, 1_764_000_000_000, 812, 3, 640, 100, [new BackupMember(1, "h1:7000"), new BackupMember(2, "h2:7000")], [new BackupFile("CHECKPOINT", "backups/checkpoints/x/CHECKPOINT", 90, 7), new BackupFile("000004.sst", "backups/tables/ab.sst", 4096, 4_000_000_000)], 4186);
        var bytes = BackupManifestFormat.Encode(m);
        var back = BackupManifestFormat.Decode(bytes, "k");
        Assert.Equal(m.Id, back.Id);
        Assert.Equal(m.ClusterId, back.ClusterId);
        Assert.Equal((m.RaftIndex, m.RaftTerm, m.Revision, m.CompactRevision, m.CreatedUnixMs, m.UploadedBytes), (back.RaftIndex, back.RaftTerm, back.Revision, back.CompactRevision, back.CreatedUnixMs, back.UploadedBytes));
        Assert.Equal(m.Members, back.Members);
        Assert.Equal(m.Files, back.Files);
        Assert.Equal(32, back.Checksum!.Length);

        for (var i = 0; i < bytes.Length; i += 37)
        {
            var damaged = (byte[])bytes.Clone();
            damaged[i] ^= 0x04;
            var e = Assert.Throws<BackupException>(() => BackupManifestFormat.Decode(damaged, "k"));
            Assert.True(e.Error is BackupError.ManifestCorrupt or BackupError.UnsupportedVersion, $"byte {i}: {e.Error}");
        }

        Assert.Equal(BackupError.ManifestCorrupt, Assert.Throws<BackupException>(() => BackupManifestFormat.Decode(bytes.AsSpan(0, bytes.Length - 5), "k")).Error);
        var text = Encoding.UTF8.GetString(bytes);
        var v3 = Encoding.UTF8.GetBytes(text.Replace(BackupManifestFormat.Magic + " 1 ", BackupManifestFormat.Magic + " 3 ", StringComparison.Ordinal));
        Assert.Equal(BackupError.UnsupportedVersion, Assert.Throws<BackupException>(() => BackupManifestFormat.Decode(v3, "k")).Error);
    }
}
