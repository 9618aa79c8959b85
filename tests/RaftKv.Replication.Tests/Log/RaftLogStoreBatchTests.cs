using RaftKv.Replication.Log;
using RaftKv.Storage;
using RaftKv.TestSupport.IO;
using static RaftKv.Replication.Tests.Log.LogFixture;
using static RaftKv.Replication.Tests.Log.SegmentBytes;

namespace RaftKv.Replication.Tests.Log;

/// <summary>
/// Format v2 batches (<see cref="SegmentFormat"/>): what recovery drops as a torn final write and what it
/// reports as corruption (file and offset).
/// </summary>
public sealed class RaftLogStoreBatchTests
{
    /// <summary>One segment, entries 1..<paramref name="flushes"/>, one flush (batch) each, entry <c>i</c> of <paramref name="size"/> bytes.</summary>
    private static (CrashableMemoryFileSystem Fs, string Segment, List<int> Batches) OneBatchPerEntry(int flushes, int size = 100)
    {
        var fs = new CrashableMemoryFileSystem();
        using (var store = RaftLogStore.Open(Options(fs), 0, 0))
        {
            for (var i = 1L; i <= flushes; i++)
            {
                store.Append(Entry(i, size: size));
                store.Flush(i);
            }
        }

        var segment = Assert.Single(Segments(fs));
        var batches = BatchOffsets(ReadAll(fs, segment));
        Assert.Equal(flushes, batches.Count);
        return (fs, segment, batches);
    }

    [Fact]
    public void EveryCutOfTheFinalBatchIsATornTailAndTheLogGoesOn()
    {
        var (fs, segment, batches) = OneBatchPerEntry(6);
        var full = ReadAll(fs, segment);
        for (var cut = batches[^1]; cut < full.Length; cut++)
        {
            Write(fs, segment, full.AsSpan(0, cut));
            using var store = RaftLogStore.Open(Options(fs), 0, 0);
            Assert.Equal(5, store.LastIndex);
            Assert.Equal(5, store.DurableCommitIndex);
            AssertEntries(store, 1, 5, size: 100);
            Assert.Equal(cut > batches[^1], store.TornTail is not null);
        }
    }

    [Fact]
    public void TornTailStaysDroppedOnceTheNextSegmentRecordsWhereTheValidDataEnds()
    {
        var (fs, segment, batches) = OneBatchPerEntry(6);
        var full = ReadAll(fs, segment);
        Write(fs, segment, full.AsSpan(0, full.Length - 20)); // entry 6's batch is torn
        using (var store = RaftLogStore.Open(Options(fs), 0, 0))
        {
            Assert.Equal(5, store.LastIndex);
            AppendRange(store, 6, 8, term: 2, size: 100); // a new leader's entries, in a new segment
            store.Flush(8);
        }

        // Whatever the torn bytes look like later (here: the complete old batch of term 1 is back), the
        // first segment's valid data ends where the second segment's header says.
        Write(fs, segment, full);
        using (var reopened = RaftLogStore.Open(Options(fs), 0, 0))
        {
            Assert.Equal(8, reopened.LastIndex);
            AssertEntries(reopened, 1, 5, size: 100);
            AssertEntries(reopened, 6, 8, term: 2, size: 100);
        }

        // And a first segment shorter than recorded is corruption, even at a batch boundary.
        Write(fs, segment, full.AsSpan(0, batches[4]));
        var e = Assert.Throws<StorageCorruptionException>(() => RaftLogStore.Open(Options(fs), 0, 0));
        Assert.Equal(segment, e.FilePath.Replace('\\', '/'));
    }

    [Fact]
    public void ZeroedTailAfterTheLastBatchIsTheEndOfTheLog()
    {
        // Preallocated space never written, or a crash after the file size grew but before the data was written:
        // nothing was there to lose, so nothing is reported as dropped.
        var (fs, segment, _) = OneBatchPerEntry(4);
        Write(fs, segment, [.. ReadAll(fs, segment), .. new byte[4096]]);
        using var store = RaftLogStore.Open(Options(fs), 0, 0);
        Assert.Equal(4, store.LastIndex);
        AssertEntries(store, 1, 4, size: 100);
        Assert.Null(store.TornTail);
    }

    [Fact]
    public void FinalBatchWithAnUnwrittenSectorIsATornTail()
    {
        var (fs, segment, batches) = OneBatchPerEntry(4, size: 3000);
        var data = ReadAll(fs, segment);
        var sector = ((batches[^1] / 512) + 2) * 512; // a whole sector inside entry 4's payload
        Array.Clear(data, sector, 512);
        Write(fs, segment, data);
        using var store = RaftLogStore.Open(Options(fs), 0, 0);
        Assert.Equal(3, store.LastIndex);
        AssertEntries(store, 1, 3, size: 3000);
    }

    [Fact]
    public void UnwrittenSectorInAnEarlierBatchIsCorruption()
    {
        var (fs, segment, batches) = OneBatchPerEntry(4, size: 3000);
        var data = ReadAll(fs, segment);
        var sector = ((batches[1] / 512) + 2) * 512; // inside entry 2's payload; batches 3 and 4 follow
        Array.Clear(data, sector, 512);
        Write(fs, segment, data);
        var e = Assert.Throws<StorageCorruptionException>(() => RaftLogStore.Open(Options(fs), 0, 0));
        Assert.Equal(batches[1] + 32, e.Offset); // entry 2's record
    }

    [Fact]
    public void FlippedByteInTheCompleteFinalBatchIsCorruption()
    {
        // All of the last flush is on disk and one byte differs: not what an interrupted write leaves.
        var (fs, segment, batches) = OneBatchPerEntry(4);
        fs.Corrupt(segment, batches[^1] + 32 + 8 + 26 + 50);
        var e = Assert.Throws<StorageCorruptionException>(() => RaftLogStore.Open(Options(fs), 0, 0));
        Assert.Equal(segment, e.FilePath.Replace('\\', '/'));
        Assert.Equal(batches[^1] + 32, e.Offset);
    }

    [Fact]
    public void BadBatchHeaderFollowedByAValidBatchIsCorruption()
    {
        var (fs, segment, batches) = OneBatchPerEntry(5);
        fs.Corrupt(segment, batches[2] + 4); // the record count of entry 3's batch
        var e = Assert.Throws<StorageCorruptionException>(() => RaftLogStore.Open(Options(fs), 0, 0));
        Assert.Equal(batches[2], e.Offset);
    }

    [Fact]
    public void BadHeaderOfTheFinalBatchIsCorruptionUnlessZeroed()
    {
        var (fs, segment, batches) = OneBatchPerEntry(5);
        var data = ReadAll(fs, segment);
        fs.Corrupt(segment, batches[^1] + 1);
        var e = Assert.Throws<StorageCorruptionException>(() => RaftLogStore.Open(Options(fs), 0, 0));
        Assert.Equal(batches[^1], e.Offset);

        Array.Clear(data, batches[^1], data.Length - batches[^1]); // the last write never reached the disk, the size did: torn
        Write(fs, segment, data);
        using var store = RaftLogStore.Open(Options(fs), 0, 0);
        Assert.Equal(4, store.LastIndex);
        AssertEntries(store, 1, 4, size: 100);
    }

    [Fact]
    public void DamageInTheLastBatchOfAnEarlierSegmentIsCorruption()
    {
        var fs = new CrashableMemoryFileSystem();
        using (var store = RaftLogStore.Open(Options(fs, segmentBytes: 1 << 10), 0, 0))
        {
            for (var i = 1L; i <= 20; i++)
            {
                store.Append(Entry(i, size: 100));
                store.Flush(i);
            }
        }

        var segments = Segments(fs);
        Assert.True(segments.Count >= 2);
        var batches = BatchOffsets(ReadAll(fs, segments[0]));
        fs.Corrupt(segments[0], batches[^1] + 32 + 8 + 26 + 10);
        var e = Assert.Throws<StorageCorruptionException>(() => RaftLogStore.Open(Options(fs), 0, 0));
        Assert.Equal(segments[0], e.FilePath.Replace('\\', '/'));
        Assert.Equal(batches[^1] + 32, e.Offset);
    }

    [Fact]
    public void LastSegmentWithAZeroedHeaderIsSkippedAndTheNextOneFollowsTheOneBefore()
    {
        var (fs, _, _) = OneBatchPerEntry(3);
        Write(fs, Dir + "/0000000001.seg", new byte[700]); // created, size grew, nothing written
        using (var store = RaftLogStore.Open(Options(fs), 0, 0))
        {
            Assert.Equal(3, store.LastIndex);
            store.Append(Entry(4, size: 100));
            store.Flush(4);
        }

        Assert.Contains(Dir + "/0000000002.seg", Segments(fs));
        using var reopened = RaftLogStore.Open(Options(fs), 0, 0);
        Assert.Equal(4, reopened.LastIndex);
        AssertEntries(reopened, 1, 4, size: 100);
    }

    [Fact]
    public void TornBatchIsDroppedWholeTruncationAndEntriesTogether()
    {
        var fs = new CrashableMemoryFileSystem();
        using (var store = RaftLogStore.Open(Options(fs), 0, 0))
        {
            AppendRange(store, 1, 8, size: 100);
            store.Flush(4);
            store.TruncateFrom(6);
            AppendRange(store, 6, 9, term: 2, size: 100);
            store.Flush(4);
        }

        var segment = Assert.Single(Segments(fs));
        fs.Truncate(segment, fs.GetLength(segment) - 1);
        using var reopened = RaftLogStore.Open(Options(fs), 0, 0);
        Assert.Equal(8, reopened.LastIndex); // neither the truncation nor 6'..9' (one flush, all or none)
        AssertEntries(reopened, 1, 8, size: 100);
    }
}
