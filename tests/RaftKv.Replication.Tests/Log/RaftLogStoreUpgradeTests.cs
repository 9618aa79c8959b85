using RaftKv.Replication.Log;
using RaftKv.Storage;
using RaftKv.TestSupport.IO;
using static RaftKv.Replication.Tests.Log.LogFixture;
using static RaftKv.Replication.Tests.Log.SegmentBytes;

namespace RaftKv.Replication.Tests.Log;

/// <summary>A data directory written by format v1 opens, and goes on in v2 segments (mixed directory).</summary>
public sealed class RaftLogStoreUpgradeTests
{
    private static CrashableMemoryFileSystem V1Directory()
    {
        var fs = new CrashableMemoryFileSystem();
        fs.CreateDirectory(Dir);
        Write(fs, Dir + "/0000000000.seg", V1Segment(1, 10, commit: 8));
        Write(fs, Dir + "/0000000001.seg", V1Segment(11, 20, commit: 18));
        return fs;
    }

    [Fact]
    public void V1SegmentsOpen()
    {
        var fs = V1Directory();
        using var store = RaftLogStore.Open(Options(fs), 0, 0);
        Assert.Equal(20, store.LastIndex);
        Assert.Equal(18, store.DurableCommitIndex);
        AssertEntries(store, 1, 20);
    }

    [Fact]
    public void V1TornTailIsStillDroppedByTheV1Rules()
    {
        var fs = V1Directory();
        var last = Dir + "/0000000001.seg";
        fs.Truncate(last, fs.GetLength(last) - 17 - 5); // the commit record gone, entry 20 torn
        using var store = RaftLogStore.Open(Options(fs), 0, 0);
        Assert.Equal(19, store.LastIndex);
        Assert.Equal(8, store.DurableCommitIndex);
        AssertEntries(store, 1, 19);
    }

    [Fact]
    public void MixedV1AndV2SegmentsReplayInOrderAcrossRotationsAndCompaction()
    {
        var fs = V1Directory();
        using (var store = RaftLogStore.Open(Options(fs, segmentBytes: 2 << 10), 0, 0))
        {
            for (var i = 21L; i <= 60; i++)
            {
                store.Append(Entry(i));
                store.Flush(i - 1);
            }
        }

        var segments = Segments(fs);
        Assert.True(segments.Count >= 4, $"{segments.Count} segments");
        Assert.Equal(2, ReadAll(fs, segments[2])[6]); // the first one written after the upgrade is v2
        using (var store = RaftLogStore.Open(Options(fs), 0, 0))
        {
            Assert.Equal(60, store.LastIndex);
            Assert.Equal(59, store.DurableCommitIndex);
            AssertEntries(store, 1, 60);
            store.Compact(25, 1); // drops both v1 segments
        }

        Assert.DoesNotContain(Dir + "/0000000000.seg", Segments(fs));
        Assert.DoesNotContain(Dir + "/0000000001.seg", Segments(fs));
        using var compacted = RaftLogStore.Open(Options(fs), 25, 1);
        Assert.Equal(60, compacted.LastIndex);
        AssertEntries(compacted, 26, 60);
    }

    [Fact]
    public void V1SegmentBehindAV2OneMustHoldWhatTheV2HeaderRecorded()
    {
        var fs = V1Directory();
        using (var store = RaftLogStore.Open(Options(fs), 0, 0))
        {
            store.Append(Entry(21));
            store.Flush(21);
        }

        // v1 alone cannot tell this from a torn write; the v2 segment after it recorded its valid end.
        var last = Dir + "/0000000001.seg";
        fs.Corrupt(last, fs.GetLength(last) - 40);
        var e = Assert.Throws<StorageCorruptionException>(() => RaftLogStore.Open(Options(fs), 0, 0));
        Assert.Equal(last, e.FilePath.Replace('\\', '/'));
        Assert.NotNull(e.Offset);
    }

    [Fact]
    public void GapBetweenV1SegmentsIsCorruption()
    {
        var fs = V1Directory();
        Write(fs, Dir + "/0000000002.seg", V1Segment(21, 30, commit: 28));
        fs.Delete(Dir + "/0000000001.seg");
        var e = Assert.Throws<StorageCorruptionException>(() => RaftLogStore.Open(Options(fs), 0, 0));
        Assert.Equal(Dir + "/0000000002.seg", e.FilePath.Replace('\\', '/'));
        Assert.Equal(16, e.Offset);
        Assert.Contains("entries are missing", e.Message);
    }
}
