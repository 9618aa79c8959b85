using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using RaftKv.Replication.Api;
using RaftKv.Replication.Backup;
using RaftKv.Storage;
using RaftKv.Storage.Tests;

namespace RaftKv.Replication.Tests;

/// <summary>
/// Backup snapshots with archived tables (docs/architecture.md, "Backup snapshots"): a self-contained
/// snapshot restores and reads with the object store switched off; a referencing one is small, needs the
/// bucket, and restores from it; a file cut or damaged anywhere is refused, never restored.
/// </summary>
public sealed class BackupSnapshotTests : IAsyncLifetime
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "raftkv-backup-" + Guid.NewGuid().ToString("N"));
    private DirectoryRemoteTableStore _objects = null!;

    private static byte[] B(string s) => Encoding.UTF8.GetBytes(s);

    public Task InitializeAsync()
    {
        _objects = new DirectoryRemoteTableStore(Path.Combine(_root, "objects"));
        return Task.CompletedTask;
    }

    [Fact]
    public async Task SelfContainedSnapshotNeedsNoBucketReferencingOneDoes()
    {
        var full = Path.Combine(_root, "full.db");
        var small = Path.Combine(_root, "small.db");
        long revision;
        await using (var node = await StartAsync(Path.Combine(_root, "source"), _objects))
        {
            var value = new byte[300];
            for (var i = 0; i < 400; i++)
            {
                await node.WriteAsync(KvTxn.Single(KvOp.Put(B($"k{i:D4}"), value.Select(_ => (byte)i).ToArray())));
            }

            await node.FlushAsync();
            foreach (var t in node.TieredStore.ListTables())
            {
                Assert.True(await node.TieredStore.ArchiveTableAsync(t.Id, $"t/{t.Id}.sst"));
            }

            await node.WriteAsync(KvTxn.Single(KvOp.Put(B("hot"), B("local"))));
            revision = node.Revision;
            await SaveAsync(node, full, referenceArchived: false);
            await SaveAsync(node, small, referenceArchived: true);
        }

        Assert.True(new FileInfo(small).Length < new FileInfo(full).Length / 4, "a referencing snapshot leaves the archived data out");
        Assert.False(SnapshotFileReader.Verify(full).ArchivedReferenced);
        var reports = new List<(long Done, long Total)>();
        SnapshotFileReader.Verify(full, new SyncProgress(reports.Add));
        Assert.True(reports.Count >= 2 && reports[0].Done == 0 && reports.Zip(reports.Skip(1)).All(p => p.First.Done <= p.Second.Done), $"verify reports one pass, 0 to the end: {string.Join(" ", reports.Select(r => r.Done))}");
        Assert.True(SnapshotFileReader.Verify(small).ArchivedReferenced);

        await Assert.ThrowsAsync<RestoreTargetException>(() => SnapshotRestore.RestoreAsync(small, Path.Combine(_root, "r-small-nobucket"), 7, null, NullLoggerFactory.Instance));
        var fromFull = await SnapshotRestore.RestoreAsync(full, Path.Combine(_root, "r-full"), 7, null, NullLoggerFactory.Instance);
        Assert.Equal(revision, fromFull.Revision);
        var fromSmall = await SnapshotRestore.RestoreAsync(small, Path.Combine(_root, "r-small"), 7, _objects, NullLoggerFactory.Instance);
        Assert.Equal(revision, fromSmall.Revision);
        Assert.Equal(7UL, ClusterIdFile.TryRead(Path.Combine(_root, "r-full")));

        _objects.Available = false; // restored members read only local files
        foreach (var dir in new[] { "r-full", "r-small" })
        {
            await using var restored = await StartAsync(Path.Combine(_root, dir), null);
            Assert.Equal(revision, restored.Revision);
            Assert.Equal((byte)123, (await restored.GetAsync(B("k0123"), ReadConsistency.Linearizable))!.Value.Value.Span[0]);
            Assert.Equal("local", Encoding.UTF8.GetString((await restored.GetAsync(B("hot"), ReadConsistency.Linearizable))!.Value.Value.Span));
            Assert.Equal(400, (await restored.RangeAsync(B("k"), B("l"), 0, ReadConsistency.Linearizable)).Count);
        }
    }

    /// <summary>Values kept in value files (key-value separation) travel in the snapshot file and come back readable.</summary>
    [Fact]
    public async Task ValueFilesTravelInTheSnapshotFile()
    {
        var path = Path.Combine(_root, "values.db");
        long revision;
        await using (var node = await StartAsync(Path.Combine(_root, "source-values"), null))
        {
            await Eventually.TrueAsync(() => Task.FromResult(((IKvStore)node.TieredStore).SeparateValues), TimeSpan.FromSeconds(30), "the member separates large values");
            for (var i = 0; i < 20; i++)
            {
                await node.WriteAsync(KvTxn.Single(KvOp.Put(B($"big{i:D2}"), Enumerable.Repeat((byte)i, 10_000).ToArray())));
            }

            await node.FlushAsync();
            Assert.True(node.GetStoreStats().BlobFiles > 0, "the values are in value files");
            revision = node.Revision;
            await SaveAsync(node, path, referenceArchived: false);
        }

        var restoredDir = Path.Combine(_root, "r-values");
        Assert.Equal(revision, (await SnapshotRestore.RestoreAsync(path, restoredDir, 7, null, NullLoggerFactory.Instance)).Revision);
        await using var restored = await StartAsync(restoredDir, null);
        Assert.True(restored.GetStoreStats().BlobFiles > 0, "the restored member points into the value files it received");
        for (var i = 0; i < 20; i++)
        {
            Assert.Equal(Enumerable.Repeat((byte)i, 10_000).ToArray(), (await restored.GetAsync(B($"big{i:D2}"), ReadConsistency.Linearizable))!.Value.Value.ToArray());
        }
    }

    [Fact]
    public async Task CutOrDamagedFilesAreRefused()
    {
        var file = Path.Combine(_root, "snap.db");
        await using (var node = await StartAsync(Path.Combine(_root, "source"), null))
        {
            for (var i = 0; i < 100; i++)
            {
                await node.WriteAsync(KvTxn.Single(KvOp.Put(B($"k{i}"), B($"v{i}"))));
            }

            await SaveAsync(node, file, referenceArchived: false);
        }

        var bytes = await File.ReadAllBytesAsync(file);
        var seed = Environment.TickCount;
        Console.WriteLine($"BackupSnapshotTests seed {seed}");
        var random = new Random(seed);
        for (var trial = 0; trial < 20; trial++)
        {
            var cut = random.Next(0, bytes.Length);
            var damaged = (byte[])bytes.Clone();
            damaged[random.Next(0, bytes.Length)] ^= (byte)(1 << random.Next(8));
            foreach (var (name, content) in new[] { ("cut", bytes[..cut]), ("damaged", damaged) })
            {
                var path = Path.Combine(_root, $"{name}-{trial}.db");
                await File.WriteAllBytesAsync(path, content);
                var e = await Assert.ThrowsAsync<SnapshotFileException>(() => SnapshotRestore.RestoreAsync(path, Path.Combine(_root, $"r-{name}-{trial}"), 1, null, NullLoggerFactory.Instance));
                Assert.True(name == "damaged" || e.Error is SnapshotFileError.Truncated or SnapshotFileError.Corrupt, $"seed {seed}: {name} at trial {trial}: {e.Error} {e.Message}");
                Assert.False(Directory.Exists(Path.Combine(_root, $"r-{name}-{trial}")), $"seed {seed}: a refused file wrote nothing");
            }
        }
    }

    private static async Task SaveAsync(KvNode node, string path, bool referenceArchived)
    {
        using var export = await node.ExportSnapshotAsync(referenceArchived, 42);
        await using var f = File.Create(path);
        await export.WriteToAsync(f, null, CancellationToken.None);
        Assert.Equal(export.Length, f.Length);
    }

    /// <summary>A continuous backup's checkpoint (<see cref="KvNode.TakeBackupCheckpointAsync"/>) records the MVCC
    /// revision at its own Raft index, not the node's revision when the call returns, although writes keep being
    /// applied meanwhile: restoring the checkpoint gives exactly that revision.</summary>
    [Fact]
    public async Task BackupCheckpointRecordsTheRevisionAtItsIndexWhileWritesContinue()
    {
        await using var node = await StartAsync(Path.Combine(_root, "source"), null);
        using var stop = new CancellationTokenSource();
        // Several writers keep the apply loop busy so that, on a fast machine too, some checkpoint is overtaken.
        var writer = Task.WhenAll(Enumerable.Range(0, 4).Select(w => Task.Run(async () =>
        {
            for (var i = 0; !stop.IsCancellationRequested; i++)
            {
                await node.WriteAsync(KvTxn.Single(KvOp.Put(B($"w{w}-{i % 300:D3}"), B($"v{i}"))));
            }
        })));
        var movedOn = 0;
        try
        {
            // At least six rounds, and more (up to 60) until one checkpoint was overtaken by writes, which is the case
            // the test is about; whether that happens in a given round depends on the machine's timing.
            for (var round = 0; round < 6 || (movedOn == 0 && round < 60); round++)
            {
                var before = node.Revision;
                await Eventually.TrueAsync(() => node.Revision > before + 20, TimeSpan.FromSeconds(60), "writes are applied");
                using var cp = await node.TakeBackupCheckpointAsync();
                movedOn += node.Revision > cp.Revision ? 1 : 0;
                var target = Path.Combine(_root, "restored-" + round);
                var header = new SnapshotHeader(cp.RaftIndex, cp.RaftTerm, 0, 1, 0, false, 0, 0);
                var r = await SnapshotRestore.RestoreCheckpointAsync(
                    CheckpointCopy.From(cp.Directory),
                    header,
                    target,
                    9,
                    NullLoggerFactory.Instance);
                Assert.InRange(r.RaftIndex, cp.RaftIndex, cp.RaftIndex + 1); // +1 when the source's cluster uid record was dropped (SnapshotRestore)
                Assert.Equal(cp.Revision, r.Revision);
                Assert.Equal(cp.CompactRevision, r.CompactRevision);
            }
        }
        finally
        {
            await stop.CancelAsync();
            await writer.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing | ConfigureAwaitOptions.ContinueOnCapturedContext);
        }

        Assert.True(movedOn > 0, "writes were applied past some checkpoint's index while it was taken"); // else the test proves nothing
    }

    /// <summary>A restore whose files cannot be fetched leaves no data directory behind.</summary>
    [Fact]
    public async Task RestoreCheckpointThatFailsToFillLeavesNothing()
    {
        var target = Path.Combine(_root, "never");
        await Assert.ThrowsAsync<IOException>(() => SnapshotRestore.RestoreCheckpointAsync((_, _) => throw new IOException("object missing"), new SnapshotHeader(1, 1, 0, 1, 0, false, 0, 0), target, 9, NullLoggerFactory.Instance));
        Assert.False(Directory.Exists(target));
    }

    private static async Task<KvNode> StartAsync(string dataDir, DirectoryRemoteTableStore? objects)
    {
        var raft = $"127.0.0.1:{TestCluster.FreePort()}";
        var node = await KvNode.CreateAsync(
            new KvNodeOptions
            {
                NodeId = 1,
                DataDir = dataDir,
                RaftListen = raft,
                RaftAdvertise = raft,
                GrpcAdvertise = "127.0.0.1:1",
                HttpAdvertise = "127.0.0.1:2",
                RemoteStore = objects,
                OperationTimeout = TimeSpan.FromSeconds(3),
            },
            NullLoggerFactory.Instance);
        await node.StartAsync();
        await Eventually.TrueAsync(() => node.IsLeader, TimeSpan.FromSeconds(30), "the single node leads");
        return node;
    }


    public Task DisposeAsync()
    {
        Directory.Delete(_root, recursive: true);
        return Task.CompletedTask;
    }

    /// <summary>Reports on the calling thread (<see cref="Progress{T}"/> posts to the thread pool).</summary>
    private sealed class SyncProgress(Action<(long, long)> report) : IProgress<(long Done, long Total)>
    {
        public void Report((long Done, long Total) value) => report(value);
    }
}
