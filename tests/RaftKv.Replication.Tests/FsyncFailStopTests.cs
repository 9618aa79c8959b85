using System.Text;
using RaftKv.Replication.Api;
using RaftKv.Storage.IO;
using RaftKv.TestSupport.IO;

namespace RaftKv.Replication.Tests;

/// <summary>
/// A failed fsync (or directory fsync) on each kind of file a node writes — Raft log segment, SSTable,
/// manifest, snapshot — fail-stops the node: the fatal handler fires once with that file's path, the
/// failed fsync is never retried and nothing else is written, no write is acknowledged afterwards, and
/// the node reopened from what the disk holds (after a power cut, or a plain restart) has every write
/// acknowledged before the failure.
/// </summary>
public sealed class FsyncFailStopTests : IDisposable
{
    private readonly MemoryDiskNode _disk = new("raftkv-failstop-");

    public enum Target
    {
        LogSegment,
        LogSegmentEnospc,
        LogDirectory,
        Sstable,
        LsmDirectory,
        Manifest,
        ManifestEnospc,
        Snapshot,
        SnapshotDirectory,
    }

    private CrashableMemoryFileSystem Fs => _disk.Fs;

    private string DataDir => _disk.DataDir;

    [Theory]
    [InlineData(Target.LogSegment, true)]
    [InlineData(Target.LogSegment, false)]
    [InlineData(Target.LogSegmentEnospc, true)]
    [InlineData(Target.LogDirectory, true)]
    [InlineData(Target.Sstable, true)]
    [InlineData(Target.Sstable, false)]
    [InlineData(Target.LsmDirectory, true)]
    [InlineData(Target.Manifest, true)]
    [InlineData(Target.Manifest, false)]
    [InlineData(Target.ManifestEnospc, true)]
    [InlineData(Target.Snapshot, true)]
    [InlineData(Target.SnapshotDirectory, true)]
    public async Task FailedFsyncStopsTheNodeAndLosesNoAcknowledgedWrite(Target target, bool powerCut)
    {
        var (operation, matches) = Injection(target);
        var handler = new RecordingFatalErrorHandler();
        var node = await StartAsync(handler);
        var acked = new Dictionary<string, string>();
        await WriteAsync(node, acked, "before", 30);
        await node.FlushAsync(); // an SSTable, a manifest record and a snapshot exist: the next ones are not the first
        await WriteAsync(node, acked, "after-flush", 30);

        // Fail the first matching fsync once. A kernel would let a retry "succeed" after dropping the
        // pages; so would this file system: nothing may reach it after the failure.
        string? failedPath = null;
        var afterFault = new List<string>();
        Fs.BeforeOperation = (op, path) =>
        {
            if (failedPath is not null)
            {
                lock (afterFault)
                {
                    afterFault.Add($"{op} {path}");
                }

                return;
            }

            if (op == operation && matches(path))
            {
                failedPath = path;
                if (target == Target.ManifestEnospc)
                {
                    throw new DiskFullException("no space left on device (injected)"); // a torn manifest record: fatal too
                }

                throw new FsyncFailedException(path, target == Target.LogSegmentEnospc ? 28 : 5);
            }
        };

        // Trigger the fsync.
        var triggerAcked = false;
        if (target == Target.LogDirectory)
        {
            await node.StopAsync(); // a restarted log writes a new segment: its directory entry is synced
            node = await StartAsync(handler, waitForLeader: false);
        }
        else if (target is Target.LogSegment or Target.LogSegmentEnospc)
        {
            triggerAcked = await TryWriteAsync(node, "trigger", "t");
        }
        else
        {
            await Assert.ThrowsAnyAsync<IOException>(() => node.FlushAsync());
        }

        var fault = await handler.Fired.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.False(triggerAcked, "the write whose fsync failed was acknowledged");
        Assert.Equal(failedPath, fault.Path);
        Assert.Equal(operation switch { "syncdir" => StorageOperation.DirectoryFsync, "append" => StorageOperation.Write, _ => StorageOperation.Fsync }, fault.Operation);
        Assert.Same(fault, node.FailStop.Fault);

        // Nothing is acknowledged after the failure.
        Assert.False(await TryWriteAsync(node, "late", "l"), "a write was acknowledged after the fatal error");
        await node.StopAsync();
        Assert.Single(handler.Faults);
        Assert.Empty(afterFault); // no retried fsync, no write of any file after the failure

        // Restart from what the disk holds.
        Fs.BeforeOperation = null;
        if (powerCut)
        {
            Fs.Crash();
        }

        var restartHandler = new RecordingFatalErrorHandler();
        var reopened = await StartAsync(restartHandler);
        try
        {
            foreach (var (key, value) in acked)
            {
                var entry = await reopened.GetAsync(B(key), ReadConsistency.Linearizable);
                Assert.True(entry is not null, $"acknowledged {key} is lost after a fail-stop on {target} (power cut: {powerCut})");
                Assert.Equal(value, Encoding.UTF8.GetString(entry.Value.Value.Span));
            }

            Assert.True(await TryWriteAsync(reopened, "after-restart", "r"));
            await reopened.FlushAsync();
            Assert.Empty(restartHandler.Faults);
        }
        finally
        {
            await reopened.StopAsync();
        }
    }

    [Fact]
    public async Task DiskFullOnALogWriteIsNotFatal()
    {
        var handler = new RecordingFatalErrorHandler();
        var node = await StartAsync(handler);
        try
        {
            var acked = new Dictionary<string, string>();
            await WriteAsync(node, acked, "before", 5);
            var full = 1;
            Fs.BeforeOperation = (op, path) =>
            {
                if (op == "append" && path.EndsWith(".seg", StringComparison.Ordinal) && Interlocked.Exchange(ref full, 0) == 1)
                {
                    throw new DiskFullException("no space left on device (injected)");
                }
            };

            // The batch is retried once the reserve is back (at once here): the write goes through.
            await Eventually.TrueAsync(() => TryWriteAsync(node, "after-enospc", "x"), TimeSpan.FromSeconds(60), "writes resume after ENOSPC");
            Assert.Empty(handler.Faults);
            Assert.Null(node.FailStop.Fault);
        }
        finally
        {
            await node.StopAsync();
        }
    }

    public void Dispose() => _disk.Dispose();

    private (string Operation, Func<string, bool> Matches) Injection(Target target)
    {
        var log = Path.Combine(DataDir, "log");
        var lsm = Path.Combine(DataDir, "lsm");
        var snapshots = Path.Combine(DataDir, "snapshots");
        return target switch
        {
            Target.LogSegment or Target.LogSegmentEnospc => ("sync", p => p.StartsWith(log + "/", StringComparison.Ordinal) && p.EndsWith(".seg", StringComparison.Ordinal)),
            Target.LogDirectory => ("syncdir", p => p == log),
            Target.Sstable => ("sync", p => p.StartsWith(lsm + "/", StringComparison.Ordinal) && p.EndsWith(".sst", StringComparison.Ordinal)),
            Target.LsmDirectory => ("syncdir", p => p == lsm),
            Target.Manifest => ("sync", p => Path.GetFileName(p).StartsWith("MANIFEST-", StringComparison.Ordinal)),
            Target.ManifestEnospc => ("append", p => Path.GetFileName(p).StartsWith("MANIFEST-", StringComparison.Ordinal)),
            Target.Snapshot => ("sync", p => p.StartsWith(snapshots + "/", StringComparison.Ordinal) && p.EndsWith("/CHECKPOINT", StringComparison.Ordinal)),
            Target.SnapshotDirectory => ("syncdir", p => p == snapshots),
            _ => throw new ArgumentOutOfRangeException(nameof(target)),
        };
    }

    private Task<KvNode> StartAsync(RecordingFatalErrorHandler handler, bool waitForLeader = true) => _disk.StartAsync(handler, waitForLeader);

    private static async Task WriteAsync(KvNode node, Dictionary<string, string> acked, string prefix, int count)
    {
        for (var i = 0; i < count; i++)
        {
            var key = $"{prefix}/{i:D3}";
            var value = $"{prefix}-value-{i}";
            await node.WriteAsync(KvTxn.Single(KvOp.Put(B(key), B(value))));
            acked[key] = value;
        }
    }

    private static async Task<bool> TryWriteAsync(KvNode node, string key, string value)
    {
        try
        {
            await node.WriteAsync(KvTxn.Single(KvOp.Put(B(key), B(value))));
            return true;
        }
        catch (Exception e) when (e is IOException or InvalidOperationException or UnavailableException or NotLeaderException or OperationCanceledException)
        {
            return false;
        }
    }

    private static byte[] B(string s) => MemoryDiskNode.B(s);
}
