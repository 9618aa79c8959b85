using RaftKv.Replication.Log;
using RaftKv.Storage;
using RaftKv.TestSupport.IO;
using static RaftKv.Replication.Tests.Log.LogFixture;
using static RaftKv.Replication.Tests.Log.SegmentBytes;

namespace RaftKv.Replication.Tests.Log;

public sealed class RaftLogStoreCorruptionTests
{
    private static CrashableMemoryFileSystem LogWithSegments(int entries, long segmentBytes = 1 << 10)
    {
        var fs = new CrashableMemoryFileSystem();
        using var store = RaftLogStore.Open(Options(fs, segmentBytes), 0, 0);
        for (var i = 1L; i <= entries; i++)
        {
            store.Append(Entry(i, size: 100));
            if (i % 2 == 0)
            {
                store.Flush(i - 1);
            }
        }

        store.Flush(entries);
        return fs;
    }

    [Fact]
    public void GarbageHeaderIsCorruption()
    {
        var fs = new CrashableMemoryFileSystem();
        var garbage = new byte[64];
        new Random(5).NextBytes(garbage);
        Write(fs, Dir + "/0000000000.seg", garbage);
        var e = Assert.Throws<StorageCorruptionException>(() => RaftLogStore.Open(Options(fs), 0, 0));
        Assert.Equal(Dir + "/0000000000.seg", e.FilePath.Replace('\\', '/'));
        Assert.Contains("bad header", e.Message);
    }

    [Fact]
    public void ForeignMagicIsCorruptionEvenWithAValidChecksum()
    {
        var fs = new CrashableMemoryFileSystem();
        Write(fs, Dir + "/0000000000.seg", [.. HeaderV1(magic: "RKVWAL"), .. CommitRecord(0)]);
        var e = Assert.Throws<StorageCorruptionException>(() => RaftLogStore.Open(Options(fs), 0, 0));
        Assert.Contains("bad header", e.Message);
    }

    [Fact]
    public void UnsupportedVersionIsCorruption()
    {
        var fs = new CrashableMemoryFileSystem();
        Write(fs, Dir + "/0000000000.seg", HeaderV1(version: 3));
        var e = Assert.Throws<StorageCorruptionException>(() => RaftLogStore.Open(Options(fs), 0, 0));
        Assert.Contains("version 3", e.Message);
    }

    [Fact]
    public void FlippedHeaderByteOfALaterSegmentIsCorruption()
    {
        var fs = LogWithSegments(20);
        var segments = Segments(fs);
        Assert.True(segments.Count >= 3, $"{segments.Count} segments");
        fs.Corrupt(segments[1], 9); // the reserved field, covered by the header checksum
        var e = Assert.Throws<StorageCorruptionException>(() => RaftLogStore.Open(Options(fs), 0, 0));
        Assert.Equal(segments[1], e.FilePath.Replace('\\', '/'));
    }

    [Fact]
    public void FlippedByteInANonLastSegmentIsCorruptionAtItsOffset()
    {
        var fs = LogWithSegments(40);
        var segments = Segments(fs);
        Assert.True(segments.Count >= 3, $"{segments.Count} segments");
        long entry3Offset;
        using (var store = RaftLogStore.Open(Options(fs), 0, 0))
        {
            var entry3 = store.Get(3)!;
            Assert.Equal(segments[0], entry3.Segment!.Replace('\\', '/'));
            entry3Offset = entry3.PayloadOffset;
        }

        fs.Corrupt(segments[0], entry3Offset + 10);

        // Entry 3's record fails its CRC inside a batch that the next segment says is valid data.
        var e = Assert.Throws<StorageCorruptionException>(() => RaftLogStore.Open(Options(fs), 0, 0));
        Assert.Equal(segments[0], e.FilePath.Replace('\\', '/'));
        Assert.Equal(entry3Offset - 8 - 26, e.Offset);

        // Even below the snapshot: a v2 segment is whole or the node does not start (rebuild it from its peers).
        Assert.Throws<StorageCorruptionException>(() => RaftLogStore.Open(Options(fs), 20, 1));
    }

    [Fact]
    public void FlippedByteInAnEarlierBatchOfTheLastSegmentIsCorruptionNamingFileAndOffset()
    {
        // The bug: recovery took the first record failing its CRC for a torn write and silently ended the
        // log there, dropping entries 4..10 although each was flushed, fsynced and acknowledged.
        var fs = new CrashableMemoryFileSystem();
        long offset;
        using (var store = RaftLogStore.Open(Options(fs), 0, 0))
        {
            for (var i = 1L; i <= 10; i++)
            {
                store.Append(Entry(i, size: 100));
                store.Flush(i); // each entry acknowledged on its own
            }

            offset = store.Get(4)!.PayloadOffset;
        }

        var segment = Assert.Single(Segments(fs));
        fs.Corrupt(segment, offset + 50);
        var e = Assert.Throws<StorageCorruptionException>(() => RaftLogStore.Open(Options(fs), 0, 0));
        Assert.Equal(segment, e.FilePath.Replace('\\', '/'));
        Assert.Equal(offset - 8 - 26, e.Offset); // entry 4's record
    }

    [Fact]
    public void UnknownRecordKindIsCorruption()
    {
        var fs = LogWithSegments(4, segmentBytes: 64L << 20);
        var segment = Assert.Single(Segments(fs));
        var data = ReadAll(fs, segment);
        Write(fs, segment, [.. data, .. Batch(0, data.Length, Record([9, 1, 2, 3, 4, 5, 6, 7, 8]))]);
        var e = Assert.Throws<StorageCorruptionException>(() => RaftLogStore.Open(Options(fs), 0, 0));
        Assert.Contains("unknown log record kind 9", e.Message);
    }

    [Fact]
    public void EntryRecordTooShortIsCorruption()
    {
        var fs = LogWithSegments(4, segmentBytes: 64L << 20);
        var segment = Assert.Single(Segments(fs));
        var body = new byte[20];
        body[0] = 1; // an entry, cut before its flags byte, with a valid checksum
        var data = ReadAll(fs, segment);
        Write(fs, segment, [.. data, .. Batch(0, data.Length, Record(body))]);
        var e = Assert.Throws<StorageCorruptionException>(() => RaftLogStore.Open(Options(fs), 0, 0));
        Assert.Contains("too short", e.Message);
    }

    [Fact]
    public void GapBetweenSegmentsIsCorruption()
    {
        var fs = LogWithSegments(40);
        var segments = Segments(fs);
        fs.Delete(segments[1]); // a whole segment lost
        var e = Assert.Throws<StorageCorruptionException>(() => RaftLogStore.Open(Options(fs), 0, 0));
        Assert.Equal(segments[2], e.FilePath.Replace('\\', '/'));
        Assert.Contains("segment 1, which is missing", e.Message); // the next segment's header names it
    }
}
