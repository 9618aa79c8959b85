using static RaftKv.Storage.Tests.Helpers;

namespace RaftKv.Storage.Tests;

/// <summary>
/// An archive's upload runs outside the manifest lock (<see cref="LsmStore.ArchiveTableAsync"/>): flushes and
/// compactions go on while S3 is slow, and a table compacted away during its upload is simply not archived.
/// </summary>
public sealed class ArchiveConcurrencyTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromMinutes(1);

    private static LsmOptions Options(string dir, IRemoteTableStore remote) => new()
    {
        Directory = dir,
        RemoteStore = remote,
        BackgroundWork = false,
        BlockSize = 512,
    };

    private static async Task FillAsync(LsmStore store, long from, int count, string tag)
    {
        for (var i = 0; i < count; i++)
        {
            store.Apply(from + i, [WriteOp.Put(B($"k{i:D5}"), B($"{tag}-{i}"))]);
        }

        await store.FlushAsync();
    }

    /// <summary>Before, the upload held the manifest lock: this flush (and so, in production, a writer stalled on
    /// frozen memtables) waited for S3.</summary>
    [Fact]
    public async Task FlushAndCompactionDoNotWaitForAnUploadInFlight()
    {
        using var dir = new TempDir();
        using var objects = new TempDir();
        var remote = new GatedRemoteTableStore(new DirectoryRemoteTableStore(objects.Path));
        await using var store = await LsmStore.OpenAsync(Options(dir.Path, remote));
        await FillAsync(store, 1, 300, "old");
        var archived = store.ListTables().Single();
        var archive = store.ArchiveTableAsync(archived.Id, "o/t.sst");
        try
        {
            await remote.UploadStarted.WaitAsync(Deadline);
            await FillAsync(store, 1001, 10, "new").WaitAsync(Deadline); // flush
            Assert.Equal(2, store.ListTables().Count);
            Assert.False(archive.IsCompleted);
        }
        finally
        {
            remote.Release(); // also when the flush timed out: the store can then be disposed
        }

        Assert.True(await archive);
        Assert.True(store.ListTables().Single(t => t.Id == archived.Id).IsRemote);
        Assert.Equal("new-5", S((await store.GetAsync(B("k00005"), 0))!.Value.Value));
        Assert.Equal(Tier.Object, (await store.GetAsync(B("k00200"), 0))!.Value.Tier);
        Assert.Equal("old-200", S((await store.GetAsync(B("k00200"), 0))!.Value.Value));
    }

    /// <summary>The table is compacted away while it uploads: the archive reports false, its object is deleted,
    /// and no file of it stays behind (the compaction's output holds the data, locally).</summary>
    [Fact]
    public async Task ATableCompactedAwayDuringItsUploadIsNotArchived()
    {
        using var dir = new TempDir();
        using var objects = new TempDir();
        var directory = new DirectoryRemoteTableStore(objects.Path);
        var remote = new GatedRemoteTableStore(directory);
        await using var store = await LsmStore.OpenAsync(Options(dir.Path, remote));
        await FillAsync(store, 1, 300, "old");
        var table = store.ListTables().Single();
        var archive = store.ArchiveTableAsync(table.Id, "o/t.sst");
        try
        {
            await remote.UploadStarted.WaitAsync(Deadline);
            Assert.False(await store.ArchiveTableAsync(table.Id, "o/again.sst").WaitAsync(Deadline)); // one archive per table at a time
            await FillAsync(store, 1001, 10, "new").WaitAsync(Deadline);
            await store.CompactAsync(0).WaitAsync(Deadline); // consumes the table being uploaded
            Assert.DoesNotContain(store.ListTables(), t => t.Id == table.Id);
        }
        finally
        {
            remote.Release();
        }

        Assert.False(await archive);
        Assert.All(store.ListTables(), t => Assert.False(t.IsRemote));
        Assert.Empty(directory.Objects);
        var stem = table.Id.ToString("D6", System.Globalization.CultureInfo.InvariantCulture);
        Assert.Empty(Directory.GetFiles(dir.Path, stem + ".*"));
        Assert.Equal("new-5", S((await store.GetAsync(B("k00005"), 0))!.Value.Value));
        Assert.Equal("old-200", S((await store.GetAsync(B("k00200"), 0))!.Value.Value));
    }

    /// <summary>Holds every upload until <see cref="Release"/> (a slow object store), after completing the upload itself.</summary>
    private sealed class GatedRemoteTableStore(IRemoteTableStore inner) : IRemoteTableStore
    {
        private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task UploadStarted => _started.Task;

        public void Release() => _release.TrySetResult();

        public async Task UploadAsync(string objectName, string localPath, CancellationToken cancellationToken = default)
        {
            await inner.UploadAsync(objectName, localPath, cancellationToken);
            _started.TrySetResult();
            await _release.Task.WaitAsync(cancellationToken);
        }

        public ValueTask ReadAsync(string objectName, long offset, Memory<byte> buffer, CancellationToken cancellationToken = default)
            => inner.ReadAsync(objectName, offset, buffer, cancellationToken);

        public Task DeleteAsync(string objectName, CancellationToken cancellationToken = default)
            => inner.DeleteAsync(objectName, cancellationToken);
    }
}
