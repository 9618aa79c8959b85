using RaftKv.Replication.Log;
using RaftKv.Storage;
using RaftKv.Storage.IO;
using RaftKv.TestSupport.IO;
using static RaftKv.Replication.Tests.Log.LogFixture;

namespace RaftKv.Replication.Tests.Log;

public sealed class RaftLogStoreTests
{
    [Fact]
    public void EntriesSurviveReopensOnARealDirectory()
    {
        using var dir = new TempDir();
        var options = Options(PhysicalFileSystem.Instance, segmentBytes: 4 << 10, payloadCacheBytes: 2 << 10, directory: dir.Path);
        using (var store = RaftLogStore.Open(options, 0, 0))
        {
            for (var i = 1L; i <= 200; i++)
            {
                store.Append(Entry(i, term: 1 + (i / 50), commandId: i % 3 == 0 ? (int)i * 1000 : null, configuration: i % 17 == 0));
                if (i % 7 == 0)
                {
                    store.Flush(i - 30);
                }
            }

            store.Flush(180);
            Assert.Equal(200, store.DurableIndex);
            Assert.Equal(180, store.DurableCommitIndex);
            Assert.Contains(store.GetRange(1, 200), r => r.Payload is null); // evicted: read back below
            AssertAll(store, 1);

            var segments = Directory.GetFiles(dir.Path, "*.seg").Order(StringComparer.Ordinal).ToList();
            Assert.True(segments.Count > 3, $"expected rotation past 4 KB segments, got {segments.Count}");
            store.Compact(120, store.TermAt(120));
            Assert.False(File.Exists(segments[0]), "compaction kept the first segment, which holds nothing above the snapshot");
            Assert.True(Directory.GetFiles(dir.Path, "*.seg").Length < segments.Count);
            AssertAll(store, 121);
        }

        using (var store = RaftLogStore.Open(options, 120, 1 + (120 / 50)))
        {
            Assert.Equal(120, store.BaseIndex);
            Assert.Equal(200, store.LastIndex);
            Assert.Equal(200, store.DurableIndex);
            Assert.Equal(180, store.DurableCommitIndex);
            Assert.Equal(1 + (120 / 50), store.TermAt(120));
            Assert.Null(store.Get(120));
            AssertAll(store, 121);

            store.TruncateFrom(190);
            store.Append(Entry(190, term: 9));
            store.Flush(185);
        }

        using (var store = RaftLogStore.Open(options, 120, 1 + (120 / 50)))
        {
            Assert.Equal(190, store.LastIndex);
            Assert.Equal(185, store.DurableCommitIndex);
            Assert.Equal(9, store.TermAt(190));
            AssertEntries(store, 190, 190, term: 9);
            for (var i = 121L; i < 190; i++)
            {
                Assert.Equal(1 + (i / 50), store.TermAt(i));
            }
        }

        static void AssertAll(RaftLogStore store, long from)
        {
            for (var i = from; i <= 200; i++)
            {
                var r = store.Get(i)!;
                Assert.Equal(i % 3 == 0 ? (int)i * 1000 : null, r.CommandId);
                Assert.Equal(i % 17 == 0, r.IsConfiguration);
                AssertEntries(store, i, i, term: 1 + (i / 50));
            }
        }
    }

    [Fact]
    public void FlushWithNothingPendingDoesNotWrite()
    {
        var fs = new CrashableMemoryFileSystem();
        using var store = RaftLogStore.Open(Options(fs), 0, 0);
        store.Flush(0);
        Assert.Equal(0, store.Flushes);
        Assert.Empty(Segments(fs));

        AppendRange(store, 1, 3);
        store.Flush(0);
        Assert.Equal(1, store.Flushes);
        var segment = Assert.Single(Segments(fs));
        var length = fs.GetLength(segment);

        store.Flush(0);
        Assert.Equal(1, store.Flushes);
        Assert.Equal(length, fs.GetLength(segment));

        store.Flush(2); // the commit index advanced: a commit record is due
        Assert.Equal(2, store.Flushes);
        Assert.Equal(2, store.DurableCommitIndex);
        Assert.True(fs.GetLength(segment) > length);
        length = fs.GetLength(segment);

        store.Flush(2);
        store.Flush(1); // behind the durable commit index: nothing to say
        store.TruncateFrom(10); // past the end: nothing to record
        store.Flush(2);
        Assert.Equal(2, store.Flushes);
        Assert.Equal(length, fs.GetLength(segment));

        store.Flush(100); // clipped to the last index
        Assert.Equal(3, store.DurableCommitIndex);
        Assert.Equal(3, store.Flushes);
    }

    [Fact]
    public void DurableIndexFollowsFlushesAndNeverExceedsLastIndex()
    {
        var fs = new CrashableMemoryFileSystem();
        using var store = RaftLogStore.Open(Options(fs), 0, 0);
        AppendRange(store, 1, 10);
        Assert.Equal(0, store.DurableIndex);
        store.Flush(2);
        Assert.Equal(10, store.DurableIndex);

        store.TruncateFrom(6);
        Assert.Equal(5, store.LastIndex);
        Assert.Equal(5, store.DurableIndex);

        AppendRange(store, 6, 8, term: 2);
        Assert.Equal(5, store.DurableIndex);
        store.Flush(2);
        Assert.Equal(8, store.DurableIndex);

        store.TruncateFrom(4);
        Assert.Equal(3, store.DurableIndex);
        store.TruncateFrom(20); // no-op
        Assert.Equal(3, store.DurableIndex);

        store.Reset(2, 3); // below the durable index (a test of the bound; Raft resets above the commit index)
        Assert.Equal(2, store.LastIndex);
        Assert.Equal(2, store.DurableIndex);
        Assert.Equal(2, store.DurableCommitIndex);

        store.Reset(50, 4);
        Assert.Equal(50, store.LastIndex);
        Assert.True(store.DurableIndex <= 50);
        AppendRange(store, 51, 52, term: 4);
        store.Flush(50);
        Assert.Equal(52, store.DurableIndex);
        Assert.Equal(50, store.DurableCommitIndex);
    }

    [Fact]
    public void TornTailDropsOnlyTheTornRecord()
    {
        var fs = new CrashableMemoryFileSystem();
        using (var store = RaftLogStore.Open(Options(fs), 0, 0))
        {
            AppendRange(store, 1, 5, size: 100);
            store.Flush(0);
            store.Append(Entry(6, size: 100));
            store.Flush(0);
        }

        var segment = Assert.Single(Segments(fs));
        fs.Truncate(segment, fs.GetLength(segment) - 30); // the last record (entry 6) loses its end
        fs.Crash();
        using (var store = RaftLogStore.Open(Options(fs), 0, 0))
        {
            Assert.Equal(5, store.LastIndex);
            Assert.Equal(5, store.DurableIndex);
            AssertEntries(store, 1, 5, size: 100);

            // Writing goes on in a new segment; the torn bytes stay behind, harmlessly.
            AppendRange(store, 6, 7, term: 2, size: 100);
            store.Flush(7);
        }

        Assert.Equal(2, Segments(fs).Count);
        fs.Crash();
        using (var reopened = RaftLogStore.Open(Options(fs), 0, 0))
        {
            Assert.Equal(7, reopened.LastIndex);
            Assert.Equal(7, reopened.DurableCommitIndex);
            AssertEntries(reopened, 1, 5, size: 100);
            AssertEntries(reopened, 6, 7, term: 2, size: 100);
        }
    }

    [Fact]
    public void TornBatchHeaderIsATornTail()
    {
        var fs = new CrashableMemoryFileSystem();
        using (var store = RaftLogStore.Open(Options(fs), 0, 0))
        {
            AppendRange(store, 1, 3);
            store.Flush(0);
            store.Append(Entry(4));
            store.Flush(0);
        }

        var segment = Assert.Single(Segments(fs));
        var withoutEntry4 = fs.GetLength(segment) - (32 + 8 + 26 + SizeOf(4)); // its batch: header, then the record
        fs.Truncate(segment, withoutEntry4 + 5); // not even the batch header is whole
        using var reopened = RaftLogStore.Open(Options(fs), 0, 0);
        Assert.Equal(3, reopened.LastIndex);
        AssertEntries(reopened, 1, 3);
    }

    [Fact]
    public void SegmentShorterThanAHeaderIsIgnored()
    {
        var fs = new CrashableMemoryFileSystem();
        using (var store = RaftLogStore.Open(Options(fs), 0, 0))
        {
            AppendRange(store, 1, 3);
            store.Flush(3);
        }

        using (var stub = fs.Create(Dir + "/0000000001.seg"))
        {
            stub.Append([(byte)'R', (byte)'K', (byte)'V']); // created, then the power went before its header was synced
            stub.Sync();
        }

        using (var store = RaftLogStore.Open(Options(fs), 0, 0))
        {
            Assert.Equal(3, store.LastIndex);
            store.Append(Entry(4));
            store.Flush(4);
        }

        Assert.Contains(Dir + "/0000000002.seg", Segments(fs)); // never overwrites the stub
        using var reopened = RaftLogStore.Open(Options(fs), 0, 0);
        Assert.Equal(4, reopened.LastIndex);
        AssertEntries(reopened, 1, 4);
    }

    [Fact]
    public void TruncatedSuffixDoesNotComeBackAfterACrash()
    {
        var fs = new CrashableMemoryFileSystem();
        var store = RaftLogStore.Open(Options(fs), 0, 0);
        AppendRange(store, 1, 10);
        store.Flush(3);
        store.TruncateFrom(5);
        store.Flush(3);
        fs.Crash();

        store = RaftLogStore.Open(Options(fs), 0, 0);
        Assert.Equal(4, store.LastIndex);
        Assert.Equal(3, store.DurableCommitIndex);
        Assert.Null(store.Get(5));
        AssertEntries(store, 1, 4);

        // Overwritten by a new leader: the new entries, not the old, after the next crash.
        store.TruncateFrom(4);
        AppendRange(store, 4, 6, term: 2);
        store.Flush(3);
        fs.Crash();

        using var reopened = RaftLogStore.Open(Options(fs), 0, 0);
        Assert.Equal(6, reopened.LastIndex);
        AssertEntries(reopened, 1, 3);
        AssertEntries(reopened, 4, 6, term: 2);
    }

    [Fact]
    public void UnflushedTruncationIsLostInACrash()
    {
        var fs = new CrashableMemoryFileSystem();
        var store = RaftLogStore.Open(Options(fs), 0, 0);
        AppendRange(store, 1, 10);
        store.Flush(3);
        store.TruncateFrom(5);
        AppendRange(store, 5, 6, term: 2);
        fs.Crash(); // nothing since the flush is durable: the log is as it was then

        using var reopened = RaftLogStore.Open(Options(fs), 0, 0);
        Assert.Equal(10, reopened.LastIndex);
        AssertEntries(reopened, 1, 10);
    }

    [Fact]
    public void ResetDiscardsTheOldLogAcrossACrash()
    {
        var fs = new CrashableMemoryFileSystem();
        var store = RaftLogStore.Open(Options(fs, segmentBytes: 1 << 10), 0, 0);
        AppendRange(store, 1, 30, size: 100);
        store.Flush(5);

        // A snapshot up to 20 (term 3) is installed; entries 21..30 (term 1) are stale.
        store.Reset(20, 3);
        Assert.Equal(20, store.BaseIndex);
        Assert.Equal(20, store.LastIndex);
        Assert.Equal(3, store.TermAt(20));
        Assert.Null(store.Get(21));
        store.Flush(20);
        fs.Crash();

        store = RaftLogStore.Open(Options(fs, segmentBytes: 1 << 10), 20, 3);
        Assert.Equal(20, store.LastIndex);
        Assert.Equal(20, store.DurableCommitIndex);
        Assert.Equal(3, store.TermAt(20));
        Assert.Empty(store.GetRange(0, 100));

        AppendRange(store, 21, 22, term: 3, size: 100);
        store.Flush(21);
        fs.Crash();
        using var reopened = RaftLogStore.Open(Options(fs, segmentBytes: 1 << 10), 20, 3);
        Assert.Equal(22, reopened.LastIndex);
        AssertEntries(reopened, 21, 22, term: 3, size: 100);
    }

    [Fact]
    public void UnflushedResetIsLostInACrashButTheStaleSuffixIsDroppedByItsOlderTerm()
    {
        // Nothing is durable before a flush: when the snapshot was persisted but its reset record was
        // not, the old suffix above the snapshot is still on disk. Its term (1) is older than the
        // snapshot's (3), which no valid log allows, so Open drops it.
        var fs = new CrashableMemoryFileSystem();
        var store = RaftLogStore.Open(Options(fs), 0, 0);
        AppendRange(store, 1, 30);
        store.Flush(5);
        store.Reset(20, 3);
        fs.Crash();

        using var reopened = RaftLogStore.Open(Options(fs), 20, 3);
        Assert.Equal(3, reopened.TermAt(20));
        Assert.Equal(20, reopened.LastIndex);
        Assert.Null(reopened.Get(21));
    }

    [Fact]
    public void UnflushedResetKeepsASuffixWhoseTermIsNotOlderThanTheSnapshot()
    {
        // Entries past the snapshot in a term at least the snapshot's may be valid (the leader checks
        // and overwrites them if not), so they come back.
        var fs = new CrashableMemoryFileSystem();
        var store = RaftLogStore.Open(Options(fs), 0, 0);
        AppendRange(store, 1, 30, term: 3);
        store.Flush(5);
        store.Reset(20, 3);
        fs.Crash();

        using var reopened = RaftLogStore.Open(Options(fs), 20, 3);
        Assert.Equal(30, reopened.LastIndex);
        AssertEntries(reopened, 21, 30, term: 3);
    }

    [Fact]
    public void ResetPastTheNewestSnapshotIsCorruption()
    {
        var fs = new CrashableMemoryFileSystem();
        using (var store = RaftLogStore.Open(Options(fs), 0, 0))
        {
            AppendRange(store, 1, 10);
            store.Reset(50, 2);
            store.Flush(50);
        }

        var e = Assert.Throws<StorageCorruptionException>(() => RaftLogStore.Open(Options(fs), 10, 1));
        Assert.Contains("reset to index 50", e.Message);
    }

    [Fact]
    public void SnapshotAheadOfTheLogLeavesAnEmptyLogAtTheSnapshot()
    {
        var fs = new CrashableMemoryFileSystem();
        using (var store = RaftLogStore.Open(Options(fs), 0, 0))
        {
            AppendRange(store, 1, 5);
            store.Flush(5);
        }

        using (var store = RaftLogStore.Open(Options(fs), 100, 7))
        {
            Assert.Equal(100, store.BaseIndex);
            Assert.Equal(100, store.LastIndex);
            Assert.Equal(100, store.DurableCommitIndex);
            Assert.Equal(7, store.TermAt(100));
            Assert.Null(store.Get(5));
            Assert.Throws<InvalidOperationException>(() => store.Append(Entry(6)));
            store.Append(Entry(101, term: 7));
            store.Flush(100);
        }

        // Entries 1..5 and then 101: not a gap, because 6..100 are in the snapshot.
        using var reopened = RaftLogStore.Open(Options(fs), 100, 7);
        Assert.Equal(101, reopened.LastIndex);
        AssertEntries(reopened, 101, 101, term: 7);
    }

    [Fact]
    public void CompactDeletesCoveredSegmentsButNeverTheOneBeingWritten()
    {
        var fs = new CrashableMemoryFileSystem();
        var store = RaftLogStore.Open(Options(fs, segmentBytes: 1 << 10, payloadCacheBytes: 512), 0, 0);
        for (var i = 1L; i <= 60; i++)
        {
            store.Append(Entry(i, size: 100));
            store.Flush(i);
        }

        var before = Segments(fs);
        Assert.True(before.Count >= 5, $"{before.Count} segments");
        store.Compact(30, 1);
        var after = Segments(fs);
        Assert.DoesNotContain(before[0], after);
        Assert.True(after.Count < before.Count);
        Assert.Equal(30, store.BaseIndex);
        AssertEntries(store, 31, 60, size: 100); // evicted payloads still readable from the surviving segments

        store.Compact(60, 1); // everything: the segment in use stays
        Assert.Equal(before[^1], Assert.Single(Segments(fs)));
        Assert.Equal(60, store.LastIndex);
        store.Append(Entry(61, size: 100));
        store.Flush(61);
        fs.Crash(); // the deletes were never made durable: the old segments come back, harmlessly

        store = RaftLogStore.Open(Options(fs, segmentBytes: 1 << 10), 60, 1);
        Assert.Equal(61, store.LastIndex);
        AssertEntries(store, 61, 61, size: 100);
        store.Compact(61, 1);
        store.Dispose();
        using var reopened = RaftLogStore.Open(Options(fs, segmentBytes: 1 << 10), 61, 1);
        Assert.Equal(61, reopened.LastIndex);
        Assert.Equal(61, reopened.DurableCommitIndex);
    }

    [Fact]
    public void PayloadsAreEvictedOnlyOnceWrittenAndReadBackFromTheirSegment()
    {
        var fs = new CrashableMemoryFileSystem();
        using var store = RaftLogStore.Open(Options(fs, payloadCacheBytes: 1000), 0, 0);
        AppendRange(store, 1, 50, size: 100);
        Assert.All(store.GetRange(1, 50), r => Assert.NotNull(r.Payload)); // over budget, but nothing is written yet
        store.Flush(0);
        var records = store.GetRange(1, 50);
        Assert.True(records.Count(r => r.Payload is null) >= 40, $"{records.Count(r => r.Payload is null)} evicted");
        Assert.All(records.Where(r => r.Payload is null), r => Assert.NotNull(r.Segment));
        Assert.NotNull(records[^1].Payload); // the newest stay
        AssertEntries(store, 1, 50, size: 100);

        // A truncation releases cache space, and the payloads appended after it stay until written.
        store.TruncateFrom(45);
        AppendRange(store, 45, 60, term: 2, size: 100);
        Assert.All(store.GetRange(45, 60), r => Assert.NotNull(r.Payload));
        store.Flush(10);
        AssertEntries(store, 1, 44, size: 100);
        AssertEntries(store, 45, 60, term: 2, size: 100);
    }
}
