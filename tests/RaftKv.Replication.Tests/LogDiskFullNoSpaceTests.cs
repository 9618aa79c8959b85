using RaftKv.Replication.Api;
using RaftKv.Storage.IO;

namespace RaftKv.Replication.Tests;

/// <summary>
/// ENOSPC on the Raft log of a single node: the node does not stop; it raises the NOSPACE alarm through
/// Raft — the log writes the alarm (and the batch that failed) into the room the released reserve gave
/// back, while the reserve cannot be recreated — refuses writes that add data, still applies a delete,
/// and once space is back and the alarm disarmed writes work again; every acknowledged write survives a
/// restart.
/// </summary>
public sealed class LogDiskFullNoSpaceTests : IDisposable
{
    private static readonly TimeSpan Deadline = MemoryDiskNode.Deadline;
    private readonly MemoryDiskNode _disk = new("raftkv-lognospace-");

    private string DataDir => _disk.DataDir;

    private static byte[] B(string s) => MemoryDiskNode.B(s);

    [Fact]
    public async Task LogEnospcRaisesNoSpaceWithoutStoppingAndLosesNothing()
    {
        var node = await StartAsync();
        var acked = new List<string>();
        for (var i = 0; i < 10; i++)
        {
            await node.WriteAsync(KvTxn.Single(KvOp.Put(B($"k{i}"), B("v"))));
            acked.Add($"k{i}");
        }

        // The disk fills: the next log write fails once (then the released reserve gives room), and the
        // reserve cannot be recreated while "full" (so the log keeps counting as out of space).
        var full = true;
        var failedOnce = 0;
        var log = Path.Combine(DataDir, "log") + "/";
        _disk.Fs.BeforeOperation = (op, path) =>
        {
            if (!Volatile.Read(ref full))
            {
                return;
            }

            if (op == "append" && path.StartsWith(log, StringComparison.Ordinal) && Interlocked.Exchange(ref failedOnce, 1) == 0)
            {
                throw new DiskFullException("no space left on device (injected)");
            }

            if (op == "create" && path.EndsWith("space.reserve", StringComparison.Ordinal))
            {
                throw new DiskFullException("no space left on device (injected, reserve)");
            }
        };

        try
        {
            await node.WriteAsync(KvTxn.Single(KvOp.Put(B("during"), B("v"))));
            acked.Add("during"); // written into the reserve's room: acknowledged, so it must survive
        }
        catch (Exception e) when (e is DiskFullException or NoSpaceException or UnavailableException)
        {
        }

        Assert.Equal(1, Volatile.Read(ref failedOnce));
        await Eventually.TrueAsync(() => node.Alarms.Any(a => a.Alarm == AlarmType.NoSpace && a.MemberId == 1), Deadline, "the NOSPACE alarm is committed and applied");
        Assert.True(node.IsLeader);
        Assert.NotNull(node.SpaceProblem);

        var refused = await Assert.ThrowsAnyAsync<Exception>(() => node.WriteAsync(KvTxn.Single(KvOp.Put(B("refused"), B("v")))));
        Assert.True(refused is DiskFullException or NoSpaceException, refused.ToString());
        await node.WriteAsync(KvTxn.Single(KvOp.Delete(B("k0")))); // what frees space still goes through
        acked.Remove("k0");

        // Space is back: the reserve is recreated, the problem clears; disarm; writes work.
        Volatile.Write(ref full, false);
        await Eventually.TrueAsync(() => node.SpaceProblem is null, Deadline, "the node is no longer out of space");
        await node.DisarmAlarmAsync(AlarmType.NoSpace, 0);
        Assert.Empty(node.Alarms);
        await node.WriteAsync(KvTxn.Single(KvOp.Put(B("after"), B("v"))));
        acked.Add("after");

        await node.DisposeAsync();
        node = await StartAsync();
        try
        {
            foreach (var key in acked)
            {
                Assert.NotNull(await node.GetAsync(B(key), ReadConsistency.Linearizable));
            }

            Assert.Null(await node.GetAsync(B("k0"), ReadConsistency.Linearizable));
            Assert.Null(await node.GetAsync(B("refused"), ReadConsistency.Linearizable));
        }
        finally
        {
            await node.DisposeAsync();
        }
    }

    public void Dispose() => _disk.Dispose();

    private Task<KvNode> StartAsync() => _disk.StartAsync(configure: o => o with { SpaceCheckInterval = TimeSpan.FromMilliseconds(100) });
}
