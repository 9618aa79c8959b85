using System.Buffers.Binary;
using RaftKv.Replication.Log;
using RaftKv.Storage;
using RaftKv.Storage.IO;
using RaftKv.TestSupport.IO;
using static RaftKv.Replication.Tests.Log.LogFixture;

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

    private static byte[] ReadAll(IFileSystem fs, string path)
    {
        using var file = fs.OpenRead(path);
        var data = new byte[file.Length];
        file.ReadExactly(0, data);
        return data;
    }

    private static void Write(IFileSystem fs, string path, ReadOnlySpan<byte> data)
    {
        using (var file = fs.Create(path))
        {
            file.Append(data);
            file.Sync();
        }

        fs.SyncDirectory(Dir);
    }

    private static byte[] Header(ReadOnlySpan<byte> magic, ushort version)
    {
        var h = new byte[16];
        magic.CopyTo(h);
        BinaryPrimitives.WriteUInt16LittleEndian(h.AsSpan(6), version);
        BinaryPrimitives.WriteUInt32LittleEndian(h.AsSpan(12), Crc32C.Compute(h.AsSpan(0, 12)));
        return h;
    }

    private static byte[] Record(ReadOnlySpan<byte> body)
    {
        var r = new byte[8 + body.Length];
        BinaryPrimitives.WriteUInt32LittleEndian(r, (uint)body.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(r.AsSpan(4), Crc32C.Compute(body));
        body.CopyTo(r.AsSpan(8));
        return r;
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
        Write(fs, Dir + "/0000000000.seg", [.. Header("RKVWAL"u8, 1), .. Record([2, 0, 0, 0, 0, 0, 0, 0, 0])]);
        var e = Assert.Throws<StorageCorruptionException>(() => RaftLogStore.Open(Options(fs), 0, 0));
        Assert.Contains("bad header", e.Message);
    }

    [Fact]
    public void UnsupportedVersionIsCorruption()
    {
        var fs = new CrashableMemoryFileSystem();
        Write(fs, Dir + "/0000000000.seg", Header("RKVLOG"u8, 2));
        var e = Assert.Throws<StorageCorruptionException>(() => RaftLogStore.Open(Options(fs), 0, 0));
        Assert.Contains("version 2", e.Message);
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
    public void FlippedByteInANonLastSegmentFollowedByLaterEntriesIsAGap()
    {
        var fs = LogWithSegments(40);
        var segments = Segments(fs);
        Assert.True(segments.Count >= 3, $"{segments.Count} segments");
        long entry3Offset, firstOfSecondSegment;
        using (var store = RaftLogStore.Open(Options(fs), 0, 0))
        {
            var entry3 = store.Get(3)!;
            Assert.Equal(segments[0], entry3.Segment!.Replace('\\', '/'));
            entry3Offset = entry3.PayloadOffset;
            firstOfSecondSegment = store.GetRange(1, 40).First(r => r.Segment!.Replace('\\', '/') == segments[1]).Index;
        }

        fs.Corrupt(segments[0], entry3Offset + 10);

        // Replay of the first segment stops at entry 3 (its checksum fails); the next segment goes on
        // above it: entries are missing, and the store refuses to start.
        var e = Assert.Throws<StorageCorruptionException>(() => RaftLogStore.Open(Options(fs), 0, 0));
        Assert.Equal(segments[1], e.FilePath.Replace('\\', '/'));
        Assert.Contains($"log entry {firstOfSecondSegment} follows entry 2", e.Message);

        // Below the snapshot, the same damage loses nothing the node needs.
        using var reopened = RaftLogStore.Open(Options(fs), firstOfSecondSegment - 1, 1);
        Assert.Equal(40, reopened.LastIndex);
        AssertEntries(reopened, firstOfSecondSegment, 40, size: 100);
    }

    [Fact]
    public void FlippedByteInTheLastSegmentEndsTheLogSilentlyAtTheDamagedRecord()
    {
        // What the code does (SegmentFormat: a record failing its CRC ends the segment, as a torn write
        // would): entries after the damaged one, although flushed and fsynced long before, are dropped
        // without an error. See the report: a flipped byte in an old record is not a torn write.
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

        fs.Corrupt(Assert.Single(Segments(fs)), offset + 50);
        using var reopened = RaftLogStore.Open(Options(fs), 0, 0);
        Assert.Equal(3, reopened.LastIndex);
        Assert.Equal(3, reopened.DurableCommitIndex);
        AssertEntries(reopened, 1, 3, size: 100);
    }

    [Fact]
    public void UnknownRecordKindIsCorruption()
    {
        var fs = LogWithSegments(4, segmentBytes: 64L << 20);
        var segment = Assert.Single(Segments(fs));
        Write(fs, segment, [.. ReadAll(fs, segment), .. Record([9, 1, 2, 3, 4, 5, 6, 7, 8])]);
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
        Write(fs, segment, [.. ReadAll(fs, segment), .. Record(body)]);
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
        Assert.Contains("entries are missing", e.Message);
    }
}
