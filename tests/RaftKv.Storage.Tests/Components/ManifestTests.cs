using RaftKv.Storage.IO;
using RaftKv.Storage.Manifests;
using static RaftKv.Storage.Tests.Helpers;

namespace RaftKv.Storage.Tests.Components;

public sealed class ManifestTests
{
    private static ManifestTable Table(long id, int level) => new(id, level, 100 * id, 10, id, id + 5, 1000, B($"a{id}"), B($"z{id}"), 50, null);

    [Fact]
    public void EditsAreReplayedOnReopen()
    {
        using var dir = new TempDir();
        var fs = PhysicalFileSystem.Instance;
        using (var m = Manifest.Open(fs, dir.Path))
        {
            var add = new ManifestEdit { DurableIndex = 10 };
            add.Added.Add(Table(1, 0));
            add.Added.Add(Table(2, 0));
            m.Append(add);
            var compact = new ManifestEdit { DurableIndex = 20 };
            compact.Removed.Add(1);
            compact.Added.Add(Table(3, 1));
            compact.MadeRemote.Add((2, "nodes/1/sst/2.sst"));
            m.Append(compact);
        }

        using var reopened = Manifest.Open(fs, dir.Path);
        Assert.Equal(20, reopened.DurableIndex);
        Assert.Equal([2L, 3L], reopened.Tables.Keys.Order());
        Assert.Equal("nodes/1/sst/2.sst", reopened.Tables[2].ObjectName);
        Assert.Equal(1, reopened.Tables[3].Level);
        Assert.Equal(B("a3"), reopened.Tables[3].MinKey);
    }

    [Fact]
    public void ATornTailIsIgnoredButACorruptRecordIsReported()
    {
        using var dir = new TempDir();
        var fs = PhysicalFileSystem.Instance;
        using (var m = Manifest.Open(fs, dir.Path))
        {
            var add = new ManifestEdit { DurableIndex = 7 };
            add.Added.Add(Table(1, 0));
            m.Append(add);
        }

        var manifest = Directory.GetFiles(dir.Path, "MANIFEST-*").Single();

        // A crash mid-append leaves a partial record: recovered as if it never happened.
        File.AppendAllBytes(manifest, [0x4D, 0x4B, 0x56]);
        using (var m = Manifest.Open(fs, dir.Path))
        {
            Assert.Equal(7, m.DurableIndex);
        }

        // A flipped byte inside a complete record is corruption, named by path.
        manifest = Directory.GetFiles(dir.Path, "MANIFEST-*").Single();
        var bytes = File.ReadAllBytes(manifest);
        bytes[^3] ^= 0x01;
        File.WriteAllBytes(manifest, bytes);
        var e = Assert.Throws<StorageCorruptionException>(() => Manifest.Open(fs, dir.Path));
        Assert.Contains(Path.GetFileName(manifest), e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CurrentNamingAMissingManifestIsCorruption()
    {
        using var dir = new TempDir();
        using (Manifest.Open(PhysicalFileSystem.Instance, dir.Path))
        {
        }

        File.WriteAllText(Path.Combine(dir.Path, "CURRENT"), "MANIFEST-999999\n");
        var e = Assert.Throws<StorageCorruptionException>(() => Manifest.Open(PhysicalFileSystem.Instance, dir.Path));
        Assert.Contains("CURRENT", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReopeningSwapsCurrentToAFreshCompactedFile()
    {
        using var dir = new TempDir();
        using (var m = Manifest.Open(PhysicalFileSystem.Instance, dir.Path))
        {
            var add = new ManifestEdit { DurableIndex = 3 };
            add.Added.Add(Table(5, 2));
            m.Append(add);
        }

        var before = File.ReadAllText(Path.Combine(dir.Path, "CURRENT")).Trim();
        using (var m = Manifest.Open(PhysicalFileSystem.Instance, dir.Path))
        {
            Assert.Single(m.Tables);
        }

        var after = File.ReadAllText(Path.Combine(dir.Path, "CURRENT")).Trim();
        Assert.NotEqual(before, after);
        Assert.False(File.Exists(Path.Combine(dir.Path, before)), "the superseded manifest is deleted");
        Assert.Single(Directory.GetFiles(dir.Path, "MANIFEST-*"));
    }

    [Fact]
    public void ASnapshotRecordWhoseLengthRunsPastTheFileIsCorruptionNotAnEmptyStore()
    {
        using var dir = new TempDir();
        using (var m = Manifest.Open(PhysicalFileSystem.Instance, dir.Path))
        {
            var add = new ManifestEdit { DurableIndex = 9 };
            add.Added.Add(Table(1, 0));
            m.Append(add);
        }

        // Reopen rewrites: the file now holds only the snapshot record. Inflate its length field.
        using (Manifest.Open(PhysicalFileSystem.Instance, dir.Path))
        {
        }

        var manifest = Directory.GetFiles(dir.Path, "MANIFEST-*").Single();
        var bytes = File.ReadAllBytes(manifest);
        bytes[7] ^= 0x40; // high byte of the first record's length
        File.WriteAllBytes(manifest, bytes);
        var e = Assert.Throws<StorageCorruptionException>(() => Manifest.Open(PhysicalFileSystem.Instance, dir.Path));
        Assert.Contains(Path.GetFileName(manifest), e.Message, StringComparison.Ordinal);
    }
}
