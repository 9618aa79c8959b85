using DotNext.IO.Log;
using DotNext.Net.Cluster.Consensus.Raft;
using Microsoft.Extensions.Logging.Abstractions;
using RaftKv.Replication.Commands;
using RaftKv.Replication.Log;
using RaftKv.TestSupport.IO;

namespace RaftKv.Replication.Tests.Log;

/// <summary>
/// Two installations of the same snapshot racing on one <see cref="RaftLog"/>: what a learner met when its tail
/// stream and DotNext's InstallSnapshot (the promotion's warm-up) both delivered the leader's snapshot
/// (chaos membership seeds 1 and 3, chaos/reports/membership-seeds-1-5-20261203.md).
/// </summary>
public sealed class RaftLogSnapshotRaceTests
{
    private static readonly CancellationToken None = CancellationToken.None;
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task ASecondInstallationOfTheSameSnapshotAfterEntriesCommittedPastItIsIgnored()
    {
        using var dir = new TempDir();
        var state = new GatedStateMachine();
        await using var log = await OpenAsync(dir, state);
        IAuditTrail<IRaftLogEntry> trail = log;

        // The tail's installation starts and holds the apply gate; DotNext's of the same snapshot passes the
        // commit-index check meanwhile (nothing is committed yet) and waits for the gate.
        var tail = trail.AppendAsync(new FakeSnapshot(20, 3, [9]), startIndex: 20, None).AsTask();
        await state.Entered(1).WaitAsync(Deadline);
        var dotNext = trail.AppendAsync(new FakeSnapshot(20, 3, [9]), startIndex: 20, None).AsTask();
        state.Release(1);
        await tail.WaitAsync(Deadline);

        // DotNext's installation now either ignores the snapshot (the fix) or starts installing it again.
        var second = state.Entered(2);
        await Task.WhenAny(dotNext, second).WaitAsync(Deadline);

        // Meanwhile the tail appends and commits the entries after the snapshot.
        var entries = Enumerable.Range(21, 10).Select(i => new KvLogEntry([(byte)i], term: 3)).ToList();
        await trail.AppendAsync(new LogEntryProducer<KvLogEntry>(entries), 21, skipCommitted: true, None);
        await trail.CommitAsync(30, None);
        state.Release(2);
        await dotNext.WaitAsync(Deadline);

        Assert.Equal([20L], state.Inner.Installed); // installed once: the state was not rolled back to 20
        Assert.Equal(30, log.LastEntryIndex);
        Assert.Equal(30, log.LastCommittedIndex);

        // DotNext's next AppendEntries continues after the committed entries.
        await trail.AppendAsync(new KvLogEntry([31], term: 3), startIndex: 31, None);
        await trail.CommitAsync(31, None);
        await trail.WaitForApplyAsync(31, None);
        Assert.Equal(Enumerable.Range(21, 11).Select(i => (long)i), state.Inner.AppliedSnapshot().Select(a => a.Index));
    }

    [Fact]
    public async Task ASnapshotAtOrBelowTheCommitIndexIsIgnored()
    {
        using var dir = new TempDir();
        var state = new FakeStateMachine();
        await using var log = await OpenAsync(dir, state);
        IAuditTrail<IRaftLogEntry> trail = log;
        var entries = Enumerable.Range(1, 10).Select(i => new KvLogEntry([(byte)i], term: 2)).ToList();
        await trail.AppendAsync(new LogEntryProducer<KvLogEntry>(entries), 1, skipCommitted: true, None);
        await trail.CommitAsync(10, None);
        await trail.WaitForApplyAsync(10, None);

        await trail.AppendAsync(new FakeSnapshot(8, 2, [9]), startIndex: 8, None);

        Assert.Empty(state.Installed);
        Assert.Equal(10, log.LastEntryIndex);
        await trail.AppendAsync(new KvLogEntry([11], term: 2), startIndex: 11, None);
        await trail.CommitAsync(11, None);
        await trail.WaitForApplyAsync(11, None);
        Assert.Equal(Enumerable.Range(1, 11).Select(i => (long)i), state.AppliedSnapshot().Select(a => a.Index));
    }

    /// <summary>A log over <paramref name="state"/> on an in-memory file system (DotNext's unused base WAL in <paramref name="dir"/>).</summary>
    private static async Task<RaftLog> OpenAsync(TempDir dir, IRaftStateMachine state)
    {
        var log = RaftLog.Open(dir.Path, state, NullLogger.Instance, new CrashableMemoryFileSystem());
        await log.InitializeAsync(None);
        return log;
    }
}
