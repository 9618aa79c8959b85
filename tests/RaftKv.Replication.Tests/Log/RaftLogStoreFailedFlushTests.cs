using RaftKv.Replication.Log;
using RaftKv.TestSupport.IO;
using static RaftKv.Replication.Tests.Log.LogFixture;

namespace RaftKv.Replication.Tests.Log;

/// <summary>
/// A flush that throws (I/O error at create, write, fsync or directory fsync) and a later flush that
/// returns: the later one promises (Flush's contract, <see cref="RaftLogStore.DurableIndex"/>) that
/// the whole log as it was is durable. Either that holds, or the store must refuse to flush again.
/// </summary>
/// <remarks>
/// Reachable in production: the flusher stops after a failed flush, but <c>RaftLog.DisposeAsync</c>
/// flushes the store once more.
/// </remarks>
public sealed class RaftLogStoreFailedFlushTests
{
    private static void FailOnce(CrashableMemoryFileSystem fs, string operation)
    {
        var armed = true;
        fs.BeforeOperation = (op, _) =>
        {
            if (armed && op == operation)
            {
                armed = false;
                throw new IOException($"injected failure before {op}");
            }
        };
    }

    [Fact]
    public void FlushAfterAFailedSegmentCreateKeepsTheFailedBatchOrRefuses()
    {
        var fs = new CrashableMemoryFileSystem();
        using (var store = RaftLogStore.Open(Options(fs), 0, 0))
        {
            AppendRange(store, 1, 10);
            store.Flush(2);
        }

        // After a restart (writing goes to a new segment): a new leader overwrites 5..10 with 5'..6'.
        var reopened = RaftLogStore.Open(Options(fs), 0, 0);
        reopened.TruncateFrom(5);
        AppendRange(reopened, 5, 6, term: 2);
        FailOnce(fs, "create");
        Assert.Throws<IOException>(() => reopened.Flush(2));
        fs.BeforeOperation = null;

        reopened.Append(Entry(7, term: 2));
        var second = Record.Exception(() => reopened.Flush(2));
        if (second is not null)
        {
            return; // the store refuses to go on after a failed flush: fine
        }

        Assert.Equal(7, reopened.DurableIndex);
        fs.Crash();
        using var recovered = RaftLogStore.Open(Options(fs), 0, 0);

        // Today: the failed flush's operations (truncate 5, entries 5' and 6') were taken from the queue
        // and dropped; the second flush wrote entry 7' alone, and replay makes a log that never existed:
        // 1..6 of term 1 followed by 7 of term 2, although 5' and 6' were reported durable.
        Assert.Equal(7, recovered.LastIndex);
        AssertEntries(recovered, 1, 4);
        AssertEntries(recovered, 5, 7, term: 2);
    }

    [Fact]
    public void FlushAfterAFailedDirectorySyncStillMakesTheNewSegmentDurable()
    {
        var fs = new CrashableMemoryFileSystem();
        var store = RaftLogStore.Open(Options(fs), 0, 0);
        AppendRange(store, 1, 5);
        FailOnce(fs, "syncdir");
        Assert.Throws<IOException>(() => store.Flush(5));
        fs.BeforeOperation = null;

        store.Append(Entry(6));
        var second = Record.Exception(() => store.Flush(6));
        if (second is not null)
        {
            return; // refusing is fine
        }

        Assert.Equal(6, store.DurableIndex);
        fs.Crash();

        // Today: the second flush appends to the same (new) segment and fsyncs it, but the directory
        // is synced only when a segment is created, so the segment's name never became durable.
        using var recovered = RaftLogStore.Open(Options(fs), 0, 0);
        Assert.Equal(6, recovered.LastIndex);
        AssertEntries(recovered, 1, 6);
    }
}
