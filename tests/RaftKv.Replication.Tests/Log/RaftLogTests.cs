using DotNext.IO.Log;
using DotNext.Net.Cluster.Consensus.Raft;
using Microsoft.Extensions.Logging.Abstractions;
using RaftKv.Replication.Commands;
using RaftKv.Replication.Log;
using RaftKv.TestSupport.IO;

namespace RaftKv.Replication.Tests.Log;

/// <summary><see cref="RaftLog"/> on its own, over a fake state machine and an in-memory file system (no cluster, no TCP).</summary>
public sealed class RaftLogTests
{
    private static readonly CancellationToken None = CancellationToken.None;

    [Fact]
    public async Task LeaderAppliesCommittedEntriesInOrderAndReplaysThemAfterReopen()
    {
        using var dir = new TempDir(); // DotNext's base WAL keeps its (unused) files on the real disk
        var fs = new CrashableMemoryFileSystem();
        var state = new FakeStateMachine();
        await using (var log = RaftLog.Open(dir.Path, state, NullLogger.Instance, fs))
        {
            await log.InitializeAsync(None);
            log.IsLeader = static () => true;
            IAuditTrail<IRaftLogEntry> trail = log;
            for (var i = 1; i <= 10; i++)
            {
                Assert.Equal(i, await trail.AppendAsync(new KvLogEntry([(byte)i], term: 2), None));
            }

            Assert.Equal(7, await trail.CommitAsync(7, None));
            await trail.WaitForApplyAsync(7, None);
            Assert.Equal(Enumerable.Range(1, 7).Select(i => (long)i), state.AppliedSnapshot().Select(a => a.Index));
            Assert.All(state.AppliedSnapshot(), a => Assert.Equal([(byte)a.Index], a.Payload));
            Assert.Equal(7, log.LastAppliedIndex);
            Assert.Equal(10, log.LastEntryIndex);
        }

        var replayed = new FakeStateMachine();
        await using (var log = RaftLog.Open(dir.Path, replayed, NullLogger.Instance, fs))
        {
            await log.InitializeAsync(None); // replays what was committed (the commit index is a hint in the log)
            Assert.Equal(10, log.LastEntryIndex);
            Assert.Equal(Enumerable.Range(1, 7).Select(i => (long)i), replayed.AppliedSnapshot().Select(a => a.Index));
        }
    }

    [Fact]
    public async Task FollowerInstallsTheLeadersSnapshotAndContinuesAfterIt()
    {
        using var dir = new TempDir();
        var fs = new CrashableMemoryFileSystem();
        var state = new FakeStateMachine();
        await using var log = RaftLog.Open(dir.Path, state, NullLogger.Instance, fs);
        await log.InitializeAsync(None);
        IAuditTrail<IRaftLogEntry> trail = log;
        await trail.AppendAsync(new KvLogEntry([1], term: 1), startIndex: 1, None);
        await trail.AppendAsync(new KvLogEntry([2], term: 1), startIndex: 2, None);

        await trail.AppendAsync(new FakeSnapshot(20, 3, [9, 9]), startIndex: 20, None);

        Assert.Equal([20L], state.Installed);
        Assert.Empty(state.AppliedSnapshot()); // the uncommitted entries below the snapshot were never applied
        Assert.Equal(20, log.LastEntryIndex);
        Assert.Equal(20, log.LastAppliedIndex);
        await trail.AppendAsync(new KvLogEntry([21], term: 3), startIndex: 21, None);
        await trail.CommitAsync(21, None); // a follower: waits until its entries are durable
        await trail.WaitForApplyAsync(21, None);
        Assert.Equal([21L], state.AppliedSnapshot().Select(a => a.Index));
    }

    [Fact]
    public async Task AFollowersCommitReturnsOnlyOnceEveryEntryItHoldsIsDurable()
    {
        // DotNext replies to the leader right after CommitAsync, and the leader counts that reply for every entry the
        // follower holds, including those past the leader's commit index: a power cut after the reply must keep them.
        using var dir = new TempDir();
        var fs = new CrashableMemoryFileSystem();
        await using (var log = RaftLog.Open(dir.Path, new FakeStateMachine(), NullLogger.Instance, fs))
        {
            await log.InitializeAsync(None);
            IAuditTrail<IRaftLogEntry> trail = log;
            var entries = Enumerable.Range(1, 5).Select(i => new KvLogEntry([(byte)i], term: 1)).ToArray();
            await trail.AppendAsync(new LogEntryProducer<KvLogEntry>(entries), 1, skipCommitted: true, None);
            await trail.CommitAsync(0, None); // the leader's commit index has not reached them yet
            Assert.Equal(1, log.FollowerFlushWaits);

            fs.Crash(); // the power cut, right after the reply; the dead process writes nothing more
            fs.BeforeOperation = static (_, path) => throw new IOException($"the process is dead ({path})");
        }

        fs.BeforeOperation = null;
        await using var reopened = RaftLog.Open(dir.Path, new FakeStateMachine(), NullLogger.Instance, fs);
        await reopened.InitializeAsync(None);
        Assert.Equal(5, reopened.LastEntryIndex);
    }

    [Fact]
    public async Task AnApplyFailureStopsTheLogAndFailsItsWaiters()
    {
        using var dir = new TempDir();
        var state = new FakeStateMachine { FailAt = 2 };
        await using var log = RaftLog.Open(dir.Path, state, NullLogger.Instance, new CrashableMemoryFileSystem());
        await log.InitializeAsync(None);
        log.IsLeader = static () => true;
        IAuditTrail<IRaftLogEntry> trail = log;
        await trail.AppendAsync(new KvLogEntry([1], term: 1), None);
        await trail.AppendAsync(new KvLogEntry([2], term: 1), None);
        await trail.CommitAsync(2, None);

        await Assert.ThrowsAsync<InvalidOperationException>(() => trail.WaitForApplyAsync(2, None).AsTask());
        Assert.Equal(1, log.LastAppliedIndex);
        await Assert.ThrowsAsync<InvalidOperationException>(() => trail.AppendAsync(new KvLogEntry([3], term: 1), None).AsTask());
    }
}
