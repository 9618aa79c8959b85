using RaftKv.Storage.IO;
using static RaftKv.Storage.Tests.Helpers;

namespace RaftKv.Storage.Tests;

/// <summary>
/// <see cref="IKvStore.GetMetadata"/> and <see cref="IKvStore.ScanMetadata"/> answer for archived
/// tables from their local keys files: with a remote store that throws on every call, they still
/// agree with what <see cref="IKvStore.GetAsync"/>/<see cref="IKvStore.ScanAsync"/> said while it worked.
/// </summary>
public sealed class MetadataTests
{
    private static LsmOptions Options(string dir, IRemoteTableStore? remote) => new()
    {
        Directory = dir,
        FileSystem = PhysicalFileSystem.Instance,
        MemtableMaxBytes = 1 << 20,
        BackgroundWork = false,
        BlockSize = 512,
        TargetFileBytes = 16 << 10,
        L1TargetBytes = 32 << 10,
        RemoteStore = remote,
    };

    private static byte[] Big(int i) => [.. B($"value-{i}-"), .. new byte[100]];

    /// <summary>Two archived tables (puts; then overwrites, deletes and TTLs) and a memtable on top.</summary>
    private static async Task<LsmStore> FillAndArchiveAsync(string dir, IRemoteTableStore remote)
    {
        var store = await LsmStore.OpenAsync(Options(dir, remote));
        long index = 0;
        for (var i = 0; i < 300; i++)
        {
            store.Apply(++index, [WriteOp.Put(B($"k{i:D4}"), i % 10 == 0 ? B($"s{i}") : Big(i))]);
        }

        await store.FlushAsync();
        store.Apply(++index, [WriteOp.Delete(B("k0005")), WriteOp.Put(B("k0006"), B("new6")), WriteOp.Put(B("k0007"), Big(7), 500), WriteOp.Delete(B("absent"))]);
        await store.FlushAsync();
        foreach (var t in store.ListTables())
        {
            Assert.True(await store.ArchiveTableAsync(t.Id, $"n/{t.Id}.sst"));
        }

        return store;
    }

    [Fact]
    public async Task ArchivedMetadataNeedsNoObjectStore()
    {
        using var dir = new TempDir();
        using var objects = new TempDir();
        var remote = new CountingRemoteStore(new DirectoryRemoteTableStore(objects.Path));
        Dictionary<string, KvEntry> expected;
        await using (var store = await FillAndArchiveAsync(dir.Path, remote))
        {
            expected = (await ScanAll(store)).ToDictionary(e => S(e.Key));
        }

        // Reopen (nothing cached) and switch the object store off: every call to it throws.
        await using var again = await LsmStore.OpenAsync(Options(dir.Path, remote));
        remote.Available = false;
        var calls = remote.Calls;
        again.Apply(1000, [WriteOp.Put(B("k0008"), B("mem")), WriteOp.Delete(B("k0009"))]);
        expected["k0008"] = new KvEntry(B("k0008"), B("mem"), 1000, 0, Tier.Memory);
        expected.Remove("k0009");

        foreach (var (key, e) in expected)
        {
            var m = again.GetMetadata(B(key), 0);
            Assert.True(m.HasValue, key);
            Assert.Equal(e.Version, m.Value.Version);
            Assert.Equal(e.ExpiresAtUnixMs, m.Value.ExpiresAtUnixMs);
            Assert.Equal(e.Value.Length, m.Value.ValueLength);
            if (e.Value.Length <= Tables.KeysFile.InlineValueMaxBytes)
            {
                Assert.Equal(S(e.Value), S(m.Value.LocalValue!.Value)); // short values are always local
            }
            else
            {
                Assert.Null(m.Value.LocalValue); // only the object has it
            }
        }

        Assert.Null(again.GetMetadata(B("k0005"), 0)); // deleted in the newer archived table
        Assert.Null(again.GetMetadata(B("k0009"), 0)); // deleted in the memtable
        Assert.Null(again.GetMetadata(B("absent"), 0));
        Assert.Null(again.GetMetadata(B("k0007"), 500)); // expired on the logical clock
        Assert.Equal(Tier.Object, again.GetMetadata(B("k0100"), 0)!.Value.Tier);

        var scanned = again.ScanMetadata(B(""), B(""), 0, 0).ToList();
        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), scanned.Select(m => S(m.Key)));
        Assert.All(scanned, m => Assert.Equal(expected[S(m.Key)].Version, m.Version));
        Assert.Equal(["k0010", "k0011", "k0012"], again.ScanMetadata(B("k001"), B("k002"), 3, 0).Select(m => S(m.Key)));
        Assert.DoesNotContain("k0007", again.ScanMetadata(B("k000"), B("k001"), 0, 500).Select(m => S(m.Key)));

        Assert.Equal(calls, remote.Calls); // nothing above touched the object store
        await Assert.ThrowsAsync<RemoteTierUnavailableException>(async () => await again.GetAsync(B("k0101"), 0));
        Assert.True(remote.Calls > calls, "a value read does need it (the test double is really off)");
    }

    [Fact]
    public async Task ATableArchivedDuringAMetadataScanIsReadFromItsKeysFile()
    {
        using var dir = new TempDir();
        using var objects = new TempDir();
        var remote = new CountingRemoteStore(new DirectoryRemoteTableStore(objects.Path));
        await using (var store = await LsmStore.OpenAsync(Options(dir.Path, remote)))
        {
            for (var i = 0; i < 300; i++)
            {
                store.Apply(i + 1, [WriteOp.Put(B($"k{i:D4}"), Big(i))]);
            }

            await store.FlushAsync();
        }

        await using var reopened = await LsmStore.OpenAsync(Options(dir.Path, remote)); // empty block cache
        var keys = new List<string>();
        using (var scan = reopened.ScanMetadata(B(""), B(""), 0, 0).GetEnumerator())
        {
            for (var i = 0; i < 5 && scan.MoveNext(); i++)
            {
                keys.Add(S(scan.Current.Key));
            }

            Assert.True(await reopened.ArchiveTableAsync(reopened.ListTables().Single().Id, "n/t.sst"));
            remote.Available = false;
            while (scan.MoveNext())
            {
                keys.Add(S(scan.Current.Key));
            }
        }

        Assert.Equal(Enumerable.Range(0, 300).Select(i => $"k{i:D4}"), keys);
    }

    [Fact]
    public async Task ATableArchivedWithoutAKeysFileGetsOneWhenTheStoreOpens()
    {
        using var dir = new TempDir();
        using var objects = new TempDir();
        var remote = new CountingRemoteStore(new DirectoryRemoteTableStore(objects.Path));
        await (await FillAndArchiveAsync(dir.Path, remote)).DisposeAsync();
        var keysFiles = Directory.GetFiles(dir.Path, "*.sstkeys");
        Assert.Equal(2, keysFiles.Length);
        foreach (var f in keysFiles)
        {
            File.Delete(f); // as archived by a release without keys files
        }

        remote.Available = false;
        var refused = await Assert.ThrowsAsync<RemoteTierUnavailableException>(() => LsmStore.OpenAsync(Options(dir.Path, remote)));
        Assert.Contains("keys file", refused.Message, StringComparison.Ordinal);

        remote.Available = true;
        await (await LsmStore.OpenAsync(Options(dir.Path, remote))).DisposeAsync();
        Assert.Equal(2, Directory.GetFiles(dir.Path, "*.sstkeys").Length);

        await using var upgraded = await LsmStore.OpenAsync(Options(dir.Path, remote));
        remote.Available = false;
        var calls = remote.Calls;
        Assert.Equal(Big(42).Length, upgraded.GetMetadata(B("k0042"), 0)!.Value.ValueLength);
        Assert.Equal("s40", S(upgraded.GetMetadata(B("k0040"), 0)!.Value.LocalValue!.Value));
        Assert.Null(upgraded.GetMetadata(B("k0005"), 0));
        Assert.Equal(299, upgraded.ScanMetadata(B(""), B(""), 0, 0).Count());
        Assert.Equal(calls, remote.Calls);
    }

    [Fact]
    public async Task ACorruptKeysFileIsReportedWithItsPath()
    {
        using var dir = new TempDir();
        using var objects = new TempDir();
        var remote = new CountingRemoteStore(new DirectoryRemoteTableStore(objects.Path));
        await (await FillAndArchiveAsync(dir.Path, remote)).DisposeAsync();
        var victim = Directory.GetFiles(dir.Path, "*.sstkeys").Order(StringComparer.Ordinal).First();
        var bytes = File.ReadAllBytes(victim);
        bytes[^60] ^= 0x40; // inside the meta block (CRC-checked on open)
        File.WriteAllBytes(victim, bytes);
        var e = await Assert.ThrowsAsync<StorageCorruptionException>(() => LsmStore.OpenAsync(Options(dir.Path, remote)));
        Assert.Contains(Path.GetFileName(victim), e.Message, StringComparison.Ordinal);
    }

    /// <summary>The remote-store test double: counts every call and can be switched off (every call throws).</summary>
    private sealed class CountingRemoteStore(IRemoteTableStore inner) : IRemoteTableStore
    {
        private int _calls;

        public bool Available { get; set; } = true;

        public int Calls => Volatile.Read(ref _calls);

        public Task UploadAsync(string objectName, string localPath, CancellationToken cancellationToken = default)
        {
            Check();
            return inner.UploadAsync(objectName, localPath, cancellationToken);
        }

        public ValueTask ReadAsync(string objectName, long offset, Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Check();
            return inner.ReadAsync(objectName, offset, buffer, cancellationToken);
        }

        public Task DeleteAsync(string objectName, CancellationToken cancellationToken = default)
        {
            Check();
            return inner.DeleteAsync(objectName, cancellationToken);
        }

        private void Check()
        {
            Interlocked.Increment(ref _calls);
            if (!Available)
            {
                throw new RemoteTierUnavailableException("object store switched off by the test");
            }
        }
    }
}
