using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using RaftKv.Replication.State;
using RaftKv.Storage;
using RaftKv.Storage.IO;
using RaftKv.TestSupport.IO;

namespace RaftKv.Replication.Tests;

/// <summary>
/// A power cut at every file operation of a snapshot installation: on reopen the node holds either
/// its old state or the snapshot's, each complete, never a mix.
/// </summary>
public sealed class SnapshotInstallCrashTests
{
    private const string Node = "/node";
    private const long SnapshotIndex = 100;

    [Fact]
    public async Task PowerCutAtAnyPointLeavesTheOldOrTheNewStateComplete()
    {
        var (sourceFs, checkpoint) = await SourceCheckpointAsync();
        var outcomes = new HashSet<string>();
        for (var crashAt = 1; ; crashAt++)
        {
            var fs = new CrashableMemoryFileSystem();
            var store = await LsmStore.OpenAsync(new LsmOptions { Directory = Node + "/lsm", FileSystem = fs });
            for (var i = 1; i <= 20; i++)
            {
                store.Apply(i, [WriteOp.Put(B($"old-{i:D2}"), B($"o{i}"))]);
            }

            await store.FlushAsync();
            var state = await KvState.RestoreAsync(store, fs, Node + "/snapshots", NullLogger.Instance, TimeProvider.System, CancellationToken.None);
            await state.TakeSnapshotAsync(CancellationToken.None);

            var cut = new PowerCut(fs, crashAt);
            var completed = await cut.RunAsync(() =>
            {
                var entry = new CheckpointSnapshot(sourceFs, checkpoint, SnapshotIndex, 3, DateTimeOffset.UnixEpoch);
                return state.InstallSnapshotAsync(entry, SnapshotIndex, CancellationToken.None).AsTask();
            });
            await cut.CrashAsync(store.DisposeAsync, completed);

            await using var reopened = await LsmStore.OpenAsync(new LsmOptions { Directory = Node + "/lsm", FileSystem = fs });
            var restored = await KvState.RestoreAsync(reopened, fs, Node + "/snapshots", NullLogger.Instance, TimeProvider.System, CancellationToken.None);
            var keys = new List<string>();
            await foreach (var e in reopened.ScanAsync(B(""), B(""), 0, 0))
            {
                if (!State.ReservedKeys.IsReserved(e.Key.Span))
                {
                    keys.Add(Encoding.UTF8.GetString(e.Key.Span));
                }
            }

            var old = Enumerable.Range(1, 20).Select(i => $"old-{i:D2}").ToList();
            var @new = Enumerable.Range(1, 30).Select(i => $"new-{i:D2}").ToList();
            Assert.True(keys.SequenceEqual(old) || keys.SequenceEqual(@new), $"power cut at operation {crashAt}: half a state ({string.Join(",", keys)})");
            if (keys.SequenceEqual(@new))
            {
                outcomes.Add("new");
                Assert.Equal(SnapshotIndex, reopened.DurableIndex);
            }
            else
            {
                outcomes.Add("old");
            }

            if (restored.Snapshot is { } snapshot)
            {
                Assert.True(restored.Snapshot.Index <= reopened.DurableIndex, $"power cut at operation {crashAt}: snapshot {snapshot.Index} is ahead of the store ({reopened.DurableIndex})");
            }

            Assert.DoesNotContain(fs.ListDirectories(Node + "/snapshots"), d => d.StartsWith("incoming-", StringComparison.Ordinal));
            if (completed)
            {
                Assert.True(crashAt > 3, "the sweep must cut the power inside the installation");
                Assert.Equal(SnapshotIndex, restored.Snapshot?.Index);
                break;
            }
        }

        Assert.Equal(["new", "old"], outcomes.Order());
    }

    /// <summary>A checkpoint of another node's store holding new-01..new-30 at <see cref="SnapshotIndex"/>.</summary>
    private static async Task<(IFileSystem Fs, string Directory)> SourceCheckpointAsync()
    {
        var fs = new CrashableMemoryFileSystem();
        await using var store = await LsmStore.OpenAsync(new LsmOptions { Directory = "/source/lsm", FileSystem = fs });
        for (var i = 1; i <= 30; i++)
        {
            store.Apply(i, [WriteOp.Put(B($"new-{i:D2}"), B($"n{i}"))]);
        }

        store.Advance(SnapshotIndex);
        await store.CheckpointAsync("/source/checkpoint");
        return (fs, "/source/checkpoint");
    }

    private static byte[] B(string s) => Encoding.UTF8.GetBytes(s);
}
