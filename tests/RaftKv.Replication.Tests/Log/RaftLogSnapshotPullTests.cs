using DotNext.IO.Log;
using DotNext.Net.Cluster.Consensus.Raft;
using Microsoft.Extensions.Logging.Abstractions;
using RaftKv.Replication.Commands;
using RaftKv.Replication.Log;
using RaftKv.TestSupport.IO;

namespace RaftKv.Replication.Tests.Log;

/// <summary>
/// The log's side of snapshots too large for one Raft request (<c>RaftLog.SnapshotPull.cs</c>): a leader hands DotNext a
/// <see cref="SnapshotReference"/> to its applied index instead of the snapshot, pins the entries a tail stream still has
/// to send, and a follower answers a reference only once its commit index has reached it.
/// </summary>
public sealed class RaftLogSnapshotPullTests
{
    private static readonly CancellationToken None = CancellationToken.None;

    [Fact]
    public async Task ALargeSnapshotIsHandedToDotNextAsAReferenceToTheAppliedIndex()
    {
        using var dir = new TempDir();
        var state = new FakeStateMachine();
        await using var log = await OpenLeaderLogAsync(dir, state);
        IAuditTrail<IRaftLogEntry> trail = log;
        await AppendAndApplyAsync(trail, 1, 100);
        state.Snapshot = new FakeSnapshot(90, 2, new byte[64]);
        await AppendAndApplyAsync(trail, 101, 101); // compacts the log up to the snapshot

        // Below the threshold: the snapshot itself, as before.
        log.PullSnapshotsAboveBytes = 64;
        var whole = await trail.ReadAsync(new Reader(), 50, 101, None);
        Assert.Equal(90, whole.SnapshotIndex);
        Assert.Null(whole.Entries[0].CommandId);
        Assert.Equal(64, whole.Entries[0].Payload.Length);

        // Above it: a reference to the applied index (101), alone.
        log.PullSnapshotsAboveBytes = 63;
        var read = await trail.ReadAsync(new Reader(), 50, 101, None);
        Assert.Equal(101, read.SnapshotIndex);
        var entry = Assert.Single(read.Entries);
        Assert.Equal(SnapshotReference.Marker, entry.CommandId);
        Assert.True(entry.IsSnapshot);
        var reference = SnapshotReference.Parse(entry.Payload);
        Assert.Equal((101, 2), (reference.Index, reference.Term));
        Assert.True(log.IsPullCredential(reference.Credential));
        Assert.False(log.IsPullCredential(new byte[SnapshotReference.CredentialBytes]));

        // Term lookups (metadata only) and the tail stream still see the snapshot.
        var meta = await trail.ReadAsync(new Reader { MetadataOnly = true }, 50, 50, None);
        Assert.Equal(90, meta.SnapshotIndex);
        Assert.Null(meta.Entries[0].CommandId);
    }

    [Fact]
    public async Task APinKeepsEntriesBelowANewSnapshotUpToPinMaxBytes()
    {
        using var dir = new TempDir();
        var state = new FakeStateMachine();
        await using var log = await OpenLeaderLogAsync(dir, state);
        IAuditTrail<IRaftLogEntry> trail = log;
        await AppendAndApplyAsync(trail, 1, 100, size: 100);
        await log.CompactNowAsync(None); // the applier drops the log only after the apply the wait saw: compact before reading
        using (var pin = log.Pin(60))
        {
            state.Snapshot = new FakeSnapshot(90, 2, [9]);
            await AppendAndApplyAsync(trail, 101, 101, size: 100);
            await log.CompactNowAsync(None);
            var kept = await trail.ReadAsync(new Reader(), 60, 101, None);
            Assert.Null(kept.SnapshotIndex); // 60..101 are still entries
            Assert.Equal(42, kept.Entries.Count);
            Assert.Equal(90, (await trail.ReadAsync(new Reader(), 59, 101, None)).SnapshotIndex); // below the pin: gone

            // The holder moves the pin forward: the next compaction may drop what it has sent.
            pin.From = 96;
            state.Snapshot = new FakeSnapshot(100, 2, [9]);
            await AppendAndApplyAsync(trail, 102, 102, size: 100);
            await log.CompactNowAsync(None);
            Assert.Null((await trail.ReadAsync(new Reader(), 96, 102, None)).SnapshotIndex);
            Assert.Equal(100, (await trail.ReadAsync(new Reader(), 95, 102, None)).SnapshotIndex);
        }

        // A pin far behind keeps at most PinMaxBytes of entries (a frozen stream must not grow the log without end).
        log.PinMaxBytes = 10 * 100;
        using (log.Pin(1))
        {
            await AppendAndApplyAsync(trail, 103, 140, size: 100);
            await log.CompactNowAsync(None);
            state.Snapshot = new FakeSnapshot(140, 2, [9]);
            await AppendAndApplyAsync(trail, 141, 141, size: 100);
            await log.CompactNowAsync(None);
            Assert.Null((await trail.ReadAsync(new Reader(), 131, 141, None)).SnapshotIndex);
            Assert.Equal(140, (await trail.ReadAsync(new Reader(), 130, 141, None)).SnapshotIndex);
        }

        // Released: the next snapshot drops the log up to it.
        state.Snapshot = new FakeSnapshot(141, 2, [9]);
        await AppendAndApplyAsync(trail, 142, 142, size: 100);
        await log.CompactNowAsync(None);
        Assert.Equal(141, (await trail.ReadAsync(new Reader(), 141, 142, None)).SnapshotIndex);
    }

    [Fact]
    public async Task AFollowerAnswersAReferenceOnlyOnceItsCommitIndexReachesIt()
    {
        using var dir = new TempDir();
        await using var log = RaftLog.Open(dir.Path, new FakeStateMachine(), NullLogger.Instance, new CrashableMemoryFileSystem());
        await log.InitializeAsync(None);
        IAuditTrail<IRaftLogEntry> trail = log;

        // No handler: refused (a node that cannot pull never lists the feature, so it is never sent one).
        await Assert.ThrowsAsync<InvalidOperationException>(() => trail.AppendAsync(new SnapshotReference(5, 2, new byte[16]), 5, None).AsTask());

        // A handler that returns without getting there: refused, nothing committed.
        log.SnapshotReferenceReceived = (_, _) => ValueTask.CompletedTask;
        await Assert.ThrowsAsync<InvalidOperationException>(() => trail.AppendAsync(new SnapshotReference(5, 2, new byte[16]), 5, None).AsTask());
        Assert.Equal(0, log.LastCommittedIndex);

        // One that gets the entries (as the pull does) and commits up to the reference: answered.
        log.SnapshotReferenceReceived = async (reference, token) =>
        {
            var (index, term) = (reference.Index, reference.Term);
            var entries = Enumerable.Range(1, (int)index).Select(i => new KvLogEntry([(byte)i], term)).ToList();
            await trail.AppendAsync(new LogEntryProducer<KvLogEntry>(entries), 1, skipCommitted: true, token);
            await trail.CommitAsync(index, token);
        };
        await trail.AppendAsync(new SnapshotReference(5, 2, new byte[16]), 5, None);
        Assert.Equal(5, log.LastCommittedIndex);
        await trail.WaitForApplyAsync(5, None);
    }

    /// <summary>A leader's log over <paramref name="state"/> that keeps no entries below a snapshot (only pins do).</summary>
    private static async Task<RaftLog> OpenLeaderLogAsync(TempDir dir, FakeStateMachine state)
    {
        var log = RaftLog.Open(dir.Path, state, NullLogger.Instance, new CrashableMemoryFileSystem());
        log.RetainEntries = 0;
        await log.InitializeAsync(None);
        log.IsLeader = static () => true;
        return log;
    }

    private static async Task AppendAndApplyAsync(IAuditTrail<IRaftLogEntry> trail, int from, int to, int size = 1)
    {
        for (var i = from; i <= to; i++)
        {
            Assert.Equal(i, await trail.AppendAsync(new KvLogEntry(new byte[size], term: 2), None));
        }

        await trail.CommitAsync(to, None);
        await trail.WaitForApplyAsync(to, None);
    }

    /// <summary>DotNext's side of a read: the entries (payloads copied, command ids) and the snapshot index.</summary>
    private sealed class Reader : ILogEntryConsumer<IRaftLogEntry, (List<(long Term, int? CommandId, bool IsSnapshot, byte[] Payload)> Entries, long? SnapshotIndex)>
    {
        public bool MetadataOnly { get; init; }

        bool ILogEntryConsumer<IRaftLogEntry, (List<(long Term, int? CommandId, bool IsSnapshot, byte[] Payload)> Entries, long? SnapshotIndex)>.LogEntryMetadataOnly => MetadataOnly;

        public async ValueTask<(List<(long Term, int? CommandId, bool IsSnapshot, byte[] Payload)> Entries, long? SnapshotIndex)> ReadAsync<TEntry, TList>(TList entries, long? snapshotIndex, CancellationToken token)
            where TEntry : IRaftLogEntry
            where TList : IReadOnlyList<TEntry>
        {
            var list = new List<(long, int?, bool, byte[])>();
            foreach (var entry in entries)
            {
                list.Add((entry.Term, entry.CommandId, entry.IsSnapshot, MetadataOnly ? [] : await DotNext.IO.DataTransferObject.ToByteArrayAsync(entry, token: token)));
            }

            return (list, snapshotIndex);
        }
    }
}
