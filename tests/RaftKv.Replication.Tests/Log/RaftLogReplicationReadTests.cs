using DotNext.IO.Log;
using DotNext.Net.Cluster.Consensus.Raft;
using Microsoft.Extensions.Logging.Abstractions;
using RaftKv.Replication.Commands;
using RaftKv.Replication.Log;
using RaftKv.TestSupport.IO;

namespace RaftKv.Replication.Tests.Log;

/// <summary>
/// What the leader's <see cref="RaftLog"/> hands DotNext for one AppendEntries. Found with 64 KiB puts from 64 clients
/// (bench/compare-etcd-api.sh, WORKLOADS=large): DotNext sends a follower everything it lacks in ONE request bounded by
/// the Raft request timeout (half the election timeout), and the log dropped every entry up to each new snapshot. A
/// follower that missed a round or two while the leader snapshotted was sent the whole store as a snapshot, which
/// cannot be streamed within the request timeout: it retried forever and stayed out of the cluster (and a follower far
/// behind by large entries timed out on every AppendEntries likewise).
/// </summary>
public sealed class RaftLogReplicationReadTests
{
    private static readonly CancellationToken None = CancellationToken.None;

    [Fact]
    public async Task AFollowerAFewEntriesBehindTheLeadersSnapshotGetsEntriesNotTheSnapshot()
    {
        using var dir = new TempDir();
        var fs = new CrashableMemoryFileSystem();
        var state = new FakeStateMachine();
        await using (var log = RaftLog.Open(dir.Path, state, NullLogger.Instance, fs))
        {
            log.RetainEntries = 20;
            await log.InitializeAsync(None);
            log.IsLeader = static () => true;
            IAuditTrail<IRaftLogEntry> trail = log;
            await AppendAndApplyAsync(trail, 1, 100);
            state.Snapshot = new FakeSnapshot(90, 2, [9]);
            await AppendAndApplyAsync(trail, 101, 101); // the applier compacts the log for the snapshot after this batch

            // A follower that holds entries up to 79: entries 80..101 are still in the log (20 kept up to the snapshot).
            var read = await trail.ReadAsync(new Reader(), 80, 101, None);
            Assert.Null(read.SnapshotIndex);
            Assert.Equal(Enumerable.Range(80, 22).Select(i => (long)i), read.Entries.Select(e => (long)e.Payload[0] + 80));

            // DotNext asks for the preceding entry's term first (a one-entry read): the entry's own term, not the snapshot's.
            var preceding = await trail.ReadAsync(new Reader(), 79, 79, None);
            Assert.Null(preceding.SnapshotIndex);
            Assert.Equal(2, preceding.Entries.Single().Term);

            // Past what is kept (20 entries up to the snapshot: 71..90), the snapshot and the entries after it, as before.
            var far = await trail.ReadAsync(new Reader(), 60, 101, None);
            Assert.Equal(90, far.SnapshotIndex);
            Assert.Equal(Enumerable.Range(91, 11).Select(i => (long)i), far.Entries.Skip(1).Select(e => (long)e.Payload[0] + 80));
        }

        // Reopened over the snapshot: the log starts after it, and what was committed past it is replayed.
        var replayed = new FakeStateMachine { Snapshot = new FakeSnapshot(90, 2, [9]) };
        await using (var log = RaftLog.Open(dir.Path, replayed, NullLogger.Instance, fs))
        {
            await log.InitializeAsync(None);
            Assert.Equal(101, log.LastEntryIndex);
            Assert.Equal(Enumerable.Range(91, 11).Select(i => (long)i), replayed.AppliedSnapshot().Select(a => a.Index));
        }
    }

    [Fact]
    public async Task KeptEntriesBelowASnapshotAreBoundedByBytes()
    {
        using var dir = new TempDir();
        var state = new FakeStateMachine();
        await using var log = RaftLog.Open(dir.Path, state, NullLogger.Instance, new CrashableMemoryFileSystem());
        log.RetainBytes = 10 * 1000; // ten entries of 1000 bytes
        await log.InitializeAsync(None);
        log.IsLeader = static () => true;
        IAuditTrail<IRaftLogEntry> trail = log;
        await AppendAndApplyAsync(trail, 1, 50, size: 1000);
        state.Snapshot = new FakeSnapshot(50, 2, [9]);
        await AppendAndApplyAsync(trail, 51, 51, size: 1000);

        Assert.Null((await trail.ReadAsync(new Reader(), 41, 51, None)).SnapshotIndex);
        Assert.Equal(50, (await trail.ReadAsync(new Reader(), 40, 51, None)).SnapshotIndex);
    }

    [Fact]
    public async Task OneReadCarriesAtMostMaxReadBytesAndAtLeastOneEntry()
    {
        using var dir = new TempDir();
        await using var log = RaftLog.Open(dir.Path, new FakeStateMachine(), NullLogger.Instance, new CrashableMemoryFileSystem());
        var more = 0;
        log.MaxReadBytes = 3500;
        log.MoreToReplicate = () => more++;
        await log.InitializeAsync(None);
        log.IsLeader = static () => true;
        IAuditTrail<IRaftLogEntry> trail = log;
        for (var i = 1; i <= 10; i++)
        {
            await trail.AppendAsync(new KvLogEntry(new byte[i == 5 ? 9000 : 1000], term: 2), None);
        }

        // DotNext counts the entries it got: the next round sends the rest, and the node starts it at once.
        Assert.Equal(3, (await trail.ReadAsync(new Reader(), 1, 10, None)).Entries.Count);
        Assert.Equal(1, more);
        Assert.Single((await trail.ReadAsync(new Reader(), 5, 10, None)).Entries); // larger than the cap: alone
        Assert.Equal(3, (await trail.ReadAsync(new Reader(), 6, 10, None)).Entries.Count); // 6..8
        Assert.Equal(2, (await trail.ReadAsync(new Reader(), 9, 10, None)).Entries.Count);
        Assert.Equal(3, more);
    }

    private static async Task AppendAndApplyAsync(IAuditTrail<IRaftLogEntry> trail, int from, int to, int size = 1)
    {
        for (var i = from; i <= to; i++)
        {
            var payload = new byte[size];
            payload[0] = (byte)(i - 80); // the index, readable back from an entry (tests read at most 0..255 above 80)
            Assert.Equal(i, await trail.AppendAsync(new KvLogEntry(payload, term: 2), None));
        }

        await trail.CommitAsync(to, None);
        await trail.WaitForApplyAsync(to, None);
    }

    /// <summary>DotNext's side of a read: the entries (payloads copied) and the snapshot index.</summary>
    private sealed class Reader : ILogEntryConsumer<IRaftLogEntry, (List<(long Term, byte[] Payload)> Entries, long? SnapshotIndex)>
    {
        public async ValueTask<(List<(long Term, byte[] Payload)> Entries, long? SnapshotIndex)> ReadAsync<TEntry, TList>(TList entries, long? snapshotIndex, CancellationToken token)
            where TEntry : IRaftLogEntry
            where TList : IReadOnlyList<TEntry>
        {
            var list = new List<(long, byte[])>();
            foreach (var entry in entries)
            {
                list.Add((entry.Term, await DotNext.IO.DataTransferObject.ToByteArrayAsync(entry, token: token)));
            }

            return (list, snapshotIndex);
        }
    }
}
