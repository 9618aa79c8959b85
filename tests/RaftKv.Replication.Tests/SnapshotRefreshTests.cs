using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using RaftKv.Replication.State;
using RaftKv.Storage;
using RaftKv.TestSupport.IO;

namespace RaftKv.Replication.Tests;

/// <summary>
/// A snapshot hard-links the store's local tables; once they are compacted away (or archived) only the
/// snapshot keeps them on local disk. A refresh re-takes it at the same index as a new generation and
/// drops the old one — safely at every file operation (a power cut leaves a complete snapshot at that index).
/// </summary>
public sealed class SnapshotRefreshTests
{
    private const string Node = "/node";

    private static byte[] B(string s) => Encoding.UTF8.GetBytes(s);

    private static async Task<(LsmStore Store, KvState State)> OpenAsync(CrashableMemoryFileSystem fs)
    {
        var store = await LsmStore.OpenAsync(new LsmOptions { Directory = Node + "/lsm", FileSystem = fs, BackgroundWork = false });
        var state = await KvState.RestoreAsync(store, fs, Node + "/snapshots", NullLogger.Instance, TimeProvider.System, CancellationToken.None);
        return (store, state);
    }

    private static HashSet<long> LocalTables(LsmStore store) => store.ListTables().Where(t => !t.IsRemote).Select(t => t.Id).ToHashSet();

    [Fact]
    public async Task RefreshReleasesTablesOnlyTheSnapshotKeptAndSurvivesAPowerCut()
    {
        var fs = new CrashableMemoryFileSystem();
        var (store, state) = await OpenAsync(fs);
        for (var flush = 0; flush < 3; flush++)
        {
            for (var i = 0; i < 50; i++)
            {
                var index = (flush * 50) + i + 1;
                store.Apply(index, [WriteOp.Put(B($"k{i:D3}"), B($"v{index}"))]);
            }

            await store.FlushAsync();
        }

        var taken = await state.TakeSnapshotAsync(CancellationToken.None);
        Assert.Equal(150, taken);
        Assert.Equal(0, state.SnapshotOnlyBytes(LocalTables(store), Node + "/lsm"));

        await store.CompactAsync(0); // three L0 tables → one: the old three now live only in the snapshot
        var pinned = state.SnapshotOnlyBytes(LocalTables(store), Node + "/lsm");
        Assert.True(pinned > 0);
        var first = ((CheckpointSnapshot)state.Snapshot!).Directory;

        Assert.Equal(150, await state.TakeSnapshotAsync(refresh: false, CancellationToken.None)); // same index: kept
        Assert.Equal(first, ((CheckpointSnapshot)state.Snapshot!).Directory);

        Assert.Equal(150, await state.TakeSnapshotAsync(refresh: true, CancellationToken.None));
        var refreshed = (CheckpointSnapshot)state.Snapshot!;
        Assert.NotEqual(first, refreshed.Directory);
        Assert.Equal((150L, 1L), (refreshed.Index, refreshed.Generation));
        Assert.False(fs.DirectoryExists(first));
        Assert.Equal(0, state.SnapshotOnlyBytes(LocalTables(store), Node + "/lsm"));

        // Power cut at every file operation of a second refresh: the restored snapshot is complete, at 150.
        await store.DisposeAsync();
        fs.Crash();
        for (var crashAt = 1; ; crashAt++)
        {
            (store, state) = await OpenAsync(fs);
            var cut = new PowerCut(fs, crashAt);
            var completed = await cut.RunAsync(() => state.TakeSnapshotAsync(refresh: true, CancellationToken.None));
            await cut.CrashAsync(store.DisposeAsync, completed);
            var (reopened, restored) = await OpenAsync(fs);
            var snapshot = Assert.IsType<CheckpointSnapshot>(restored.Snapshot);
            Assert.Equal(150, snapshot.Index);
            Assert.True(fs.Exists(Path.Combine(snapshot.Directory, LsmStore.CheckpointManifestName)), $"crash at {crashAt}: incomplete snapshot");
            await reopened.DisposeAsync();
            if (completed)
            {
                break;
            }
        }
    }
}
