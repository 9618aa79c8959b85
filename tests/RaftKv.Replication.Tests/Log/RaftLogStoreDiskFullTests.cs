using RaftKv.Replication.Log;
using RaftKv.Storage.IO;
using RaftKv.TestSupport.IO;
using static RaftKv.Replication.Tests.Log.LogFixture;

namespace RaftKv.Replication.Tests.Log;

/// <summary>
/// ENOSPC while a flush writes or fsyncs its batch (<see cref="RaftLogStore.Flush"/>): recoverable. The
/// batch does not count as durable, stays queued, and the next flush writes it (in a new segment whose
/// header records where the old one's valid data ends); the store never turns into a failed one, and
/// neither a reopen nor a power cut sees the partial batch.
/// </summary>
public sealed class RaftLogStoreDiskFullTests
{
    private static void FullOnce(CrashableMemoryFileSystem fs, string operation)
    {
        var armed = true;
        fs.BeforeOperation = (op, path) =>
        {
            if (armed && op == operation)
            {
                armed = false;
                throw new DiskFullException($"no space left on device (injected before {op})");
            }
        };
    }

    [Theory]
    [InlineData("append", false)]
    [InlineData("sync", false)]
    [InlineData("sync", true)]
    [InlineData("create", false)]
    public void AFlushAfterDiskFullWritesTheFailedBatch(string operation, bool crash)
    {
        var fs = new CrashableMemoryFileSystem();
        var store = RaftLogStore.Open(Options(fs), 0, 0);
        AppendRange(store, 1, 10);
        store.Flush(3);
        if (operation == "create")
        {
            store.Dispose();
            store = RaftLogStore.Open(Options(fs), 0, 0); // the next flush creates a segment
        }

        // A new leader overwrote 8..10 with 8'..9'; the flush carrying that runs out of space.
        store.TruncateFrom(8);
        AppendRange(store, 8, 9, term: 2);
        FullOnce(fs, operation);
        Assert.Throws<DiskFullException>(() => store.Flush(5));
        Assert.True(store.DurableIndex <= 7, $"durable index {store.DurableIndex} counts the failed batch");

        // Space is back: the next flush writes the failed batch and what queued meanwhile.
        fs.BeforeOperation = null;
        store.Append(Entry(10, term: 2));
        store.Flush(6);
        Assert.Equal(10, store.DurableIndex);

        if (crash)
        {
            fs.Crash();
        }
        else
        {
            store.Dispose(); // the partial batch's bytes stay in the old segment
        }

        using var recovered = RaftLogStore.Open(Options(fs), 0, 0);
        Assert.Equal(10, recovered.LastIndex);
        AssertEntries(recovered, 1, 7);
        AssertEntries(recovered, 8, 10, term: 2);
        Assert.Equal(6, recovered.DurableCommitIndex);
    }

    [Fact]
    public void RepeatedDiskFullNeverFailsTheStore()
    {
        var fs = new CrashableMemoryFileSystem();
        using var store = RaftLogStore.Open(Options(fs), 0, 0);
        AppendRange(store, 1, 3);
        store.Flush(1);
        for (var i = 0; i < 5; i++)
        {
            AppendRange(store, 4 + i, 4 + i);
            FullOnce(fs, i % 2 == 0 ? "sync" : "append");
            Assert.Throws<DiskFullException>(() => store.Flush(2));
        }

        fs.BeforeOperation = null;
        store.Flush(8);
        Assert.Equal(8, store.DurableIndex);
        fs.Crash();
        using var recovered = RaftLogStore.Open(Options(fs), 0, 0);
        AssertEntries(recovered, 1, 8);
    }

    [Fact]
    public void OtherIoErrorsStillFailTheStore()
    {
        var fs = new CrashableMemoryFileSystem();
        using var store = RaftLogStore.Open(Options(fs), 0, 0);
        AppendRange(store, 1, 3);
        fs.BeforeOperation = (op, _) => throw new IOException("EIO (injected)");
        var first = Assert.Throws<IOException>(() => store.Flush(1));
        Assert.IsNotType<DiskFullException>(first);
        fs.BeforeOperation = null;
        Assert.Throws<IOException>(() => store.Flush(1));
        Assert.Equal(0, store.DurableIndex);
    }
}
