using RaftKv.Replication.Log;
using RaftKv.Storage;
using RaftKv.Storage.IO;
using RaftKv.TestSupport.IO;
using Xunit.Abstractions;
using static RaftKv.Replication.Tests.Log.LogFixture;
using static RaftKv.Replication.Tests.Log.SegmentBytes;

namespace RaftKv.Replication.Tests.Log;

/// <summary>
/// Preallocated segments (<see cref="RaftLogStoreOptions.PreallocateSegments"/>): segments start in a file of zeros
/// prepared ahead, which flushes overwrite in place; recovery takes the never-written zeros as the end of the log
/// and keeps telling torn writes from damage.
/// </summary>
public sealed class RaftLogStorePreallocationTests(ITestOutputHelper output)
{
    private const long Segment = 8 << 10;

    private static RaftLogStoreOptions Preallocating(IFileSystem fs, bool inline = true) => new()
    {
        Directory = Dir,
        FileSystem = fs,
        SegmentBytes = Segment,
        PreallocateSegments = true,
        PrepareSpareInline = inline,
    };

    private static string Spare => Dir + "/" + RaftLogStore.SpareName;

    /// <summary>Appends and flushes <paramref name="from"/>..<paramref name="to"/> one entry per flush.</summary>
    private static void FlushEach(RaftLogStore store, long from, long to, int size = 700)
    {
        for (var i = from; i <= to; i++)
        {
            store.Append(Entry(i, size: size));
            store.Flush(i);
        }
    }

    [Fact]
    public void SegmentsStartInThePreparedFileAndReopenWhole()
    {
        var fs = new CrashableMemoryFileSystem();
        using (var store = RaftLogStore.Open(Preallocating(fs), 0, 0))
        {
            Assert.Equal(Segment, fs.GetLength(Spare)); // prepared at open, before the first segment
            FlushEach(store, 1, 60); // ~42 KB of entries: several segments
            var segments = Segments(fs);
            Assert.True(segments.Count >= 4, $"{segments.Count} segments");
            Assert.Equal(segments.Count, store.PreallocatedSegments); // every one, the first included
            Assert.All(segments, s => Assert.True(fs.GetLength(s) >= Segment, $"{s}: {fs.GetLength(s)} bytes"));
            Assert.Equal(Segment, fs.GetLength(Spare)); // the next one is ready
        }

        using var reopened = RaftLogStore.Open(Preallocating(fs), 0, 0);
        Assert.Equal(60, reopened.LastIndex);
        Assert.Equal(60, reopened.DurableCommitIndex);
        AssertEntries(reopened, 1, 60, size: 700);
        Assert.Null(reopened.TornTail); // the zeros after the last batch are not reported as dropped
        FlushEach(reopened, 61, 70);
        AssertEntries(reopened, 1, 70, size: 700);
    }

    [Fact]
    public void ASpareLeftByTheLastRunIsReusedAndAHalfFilledOneDeleted()
    {
        var fs = new CrashableMemoryFileSystem();
        using (var store = RaftLogStore.Open(Preallocating(fs), 0, 0))
        {
            FlushEach(store, 1, 3);
        }

        Write(fs, Dir + "/" + RaftLogStore.SpareTempName, new byte[100]); // a preparation the crash cut short
        var creates = new List<string>();
        fs.BeforeOperation = (op, path) =>
        {
            if (op == "create")
            {
                creates.Add(path);
            }
        };
        using var reopened = RaftLogStore.Open(Preallocating(fs), 0, 0);
        Assert.False(fs.Exists(Dir + "/" + RaftLogStore.SpareTempName));
        FlushEach(reopened, 4, 4); // a new segment after the restart: in the spare the last run left
        Assert.Equal(1, reopened.PreallocatedSegments);
        Assert.DoesNotContain(creates, p => p.EndsWith(".seg", StringComparison.Ordinal)); // never created empty
        AssertEntries(reopened, 1, 4, size: 700);
    }

    [Fact]
    public void SegmentsOfLargeFlushesGetNoSpareAfterThem()
    {
        // Zero-filling a spare costs a segment's worth of writes; it pays only while flushes are small.
        var fs = new CrashableMemoryFileSystem();
        var options = new RaftLogStoreOptions { Directory = Dir, FileSystem = fs, SegmentBytes = 256 << 10, PreallocateSegments = true, PrepareSpareInline = true };
        using var store = RaftLogStore.Open(options, 0, 0);
        // ~100 KB per flush. A spare is prepared when a segment starts, judging the segment before it: the one made
        // at open and the one made when the first segment started (nothing to judge yet) are used, then none.
        FlushEach(store, 1, 12, size: 100_000);
        Assert.True(Segments(fs).Count >= 4, $"{Segments(fs).Count} segments");
        Assert.Equal(2, store.PreallocatedSegments);
        Assert.False(fs.Exists(Spare));
        var before = store.PreallocatedSegments;
        FlushEach(store, 13, 1200, size: 900); // segments of small flushes: preallocated again
        Assert.True(store.PreallocatedSegments > before, $"{store.PreallocatedSegments} preallocated segments");
        AssertEntries(store, 1, 12, size: 100_000);
        AssertEntries(store, 13, 1200, size: 900);
    }

    [Fact]
    public void SegmentsClosedEarlyBySnapshotsGetNoSpareAfterThem()
    {
        // A lightly loaded node snapshots every minute, and a snapshot covering the whole segment being written closes
        // it (the next flush starts a new one): a spare after each would write a segment of zeros per snapshot.
        var fs = new CrashableMemoryFileSystem();
        var zeros = 0L;
        fs.BeforeOperation = (op, path) => zeros += op == "create" && path.EndsWith(RaftLogStore.SpareTempName, StringComparison.Ordinal) ? 1 : 0;
        using var store = RaftLogStore.Open(Preallocating(fs), 0, 0);
        Assert.Equal(1, zeros); // the spare made at open
        for (var round = 0; round < 6; round++)
        {
            FlushEach(store, (round * 3) + 1, (round * 3) + 3, size: 500);
            store.Compact((round * 3) + 3, 1);
        }

        Assert.True(Segments(fs).Count <= 2, $"{Segments(fs).Count} segments: covered ones are deleted");
        // The spares made at open and when the first segment started (nothing to judge yet) are used, then none.
        Assert.Equal(2, store.PreallocatedSegments);
        Assert.Equal(2, zeros);
        Assert.False(fs.Exists(Spare));
        FlushEach(store, 19, 80, size: 500); // segments filled by writes: preallocated again
        Assert.True(store.PreallocatedSegments > 1, $"{store.PreallocatedSegments} preallocated segments");
        AssertEntries(store, 19, 80, size: 500);
    }

    [Fact]
    public void ASpareDeletedByHandIsHarmless()
    {
        var fs = new CrashableMemoryFileSystem();
        using var store = RaftLogStore.Open(Preallocating(fs), 0, 0);
        fs.Delete(Spare); // an operator cleaning up the log directory
        FlushEach(store, 1, 20); // the segment that would have taken it starts empty; the ones after are preallocated again
        Assert.Equal(Segments(fs).Count - 1, store.PreallocatedSegments);
        AssertEntries(store, 1, 20, size: 700);
    }

    [Fact]
    public void AFlushTornInsideAPreallocatedSegmentIsDroppedAndDamageIsStillCorruption()
    {
        var fs = new CrashableMemoryFileSystem();
        long lastBatch;
        string segment;
        using (var store = RaftLogStore.Open(Preallocating(fs), 0, 0))
        {
            FlushEach(store, 1, 4, size: 1500);
            segment = Assert.Single(Segments(fs));
            lastBatch = store.Get(4)!.PayloadOffset; // inside entry 4's batch
        }

        var full = ReadAll(fs, segment);
        var dataEnd = Array.FindLastIndex(full, b => b != 0) + 1;
        Assert.True(dataEnd < full.Length, "zeros follow the data");

        // A power cut in the last flush: the sectors from some point inside its batch never reached the disk,
        // so they still hold the preallocated zeros.
        var torn = (byte[])full.Clone();
        var from = (int)((lastBatch / 512) + 1) * 512;
        Array.Clear(torn, from, dataEnd - from);
        Write(fs, segment, torn);
        using (var store = RaftLogStore.Open(Preallocating(fs), 0, 0))
        {
            Assert.Equal(3, store.LastIndex);
            AssertEntries(store, 1, 3, size: 1500);
            Assert.NotNull(store.TornTail);
        }

        // A flipped byte in that complete last batch, zeros after it: no unwritten sector in it, so damage.
        var flipped = (byte[])full.Clone();
        flipped[(int)lastBatch + 10] ^= 0xFF;
        Write(fs, segment, flipped);
        Assert.Throws<StorageCorruptionException>(() => RaftLogStore.Open(Preallocating(fs), 0, 0));

        // And a flipped byte in an earlier batch, whatever follows.
        flipped = (byte[])full.Clone();
        flipped[200] ^= 0xFF;
        Write(fs, segment, flipped);
        Assert.Throws<StorageCorruptionException>(() => RaftLogStore.Open(Preallocating(fs), 0, 0));
    }

    /// <summary>
    /// A power cut at every file operation of a run that rolls through preallocated segments (preparing spares,
    /// renaming them, overwriting, syncing): after the crash the log opens, holds every entry whose flush
    /// returned, and goes on writing.
    /// </summary>
    [Fact]
    public void PowerCutAtAnyOperationKeepsEveryFlushedEntry()
    {
        var operations = 0;
        var probe = new CrashableMemoryFileSystem { BeforeOperation = (_, _) => operations++ };
        using (var store = RaftLogStore.Open(Preallocating(probe), 0, 0))
        {
            FlushEach(store, 1, 30);
        }

        output.WriteLine($"{operations} file operations in the run");
        for (var cutAt = 1; cutAt <= operations; cutAt++)
        {
            var fs = new CrashableMemoryFileSystem();
            long flushed = 0;
            var cut = new PowerCut(fs, cutAt);
            try
            {
                using var store = RaftLogStore.Open(Preallocating(fs), 0, 0);
                for (var i = 1L; i <= 30; i++)
                {
                    store.Append(Entry(i, size: 700));
                    store.Flush(i);
                    flushed = i;
                }
            }
            catch (IOException) when (cut.IsDown)
            {
            }

            fs.BeforeOperation = null;
            fs.Crash();
            long last;
            using (var reopened = RaftLogStore.Open(Preallocating(fs), 0, 0))
            {
                Assert.True(reopened.LastIndex >= flushed, $"cut at operation {cutAt}: entries up to {flushed} were flushed, the log ends at {reopened.LastIndex}");
                AssertEntries(reopened, 1, reopened.LastIndex, size: 700);
                FlushEach(reopened, reopened.LastIndex + 1, reopened.LastIndex + 15); // on after whatever the cut left
                last = reopened.LastIndex;
            }

            // And once more: what the cut left (a segment whose header never became durable, a spare) is judged
            // the same way with later segments after it.
            using var again = RaftLogStore.Open(Preallocating(fs), 0, 0);
            Assert.Equal(last, again.LastIndex);
            AssertEntries(again, 1, last, size: 700);
        }
    }

    [Fact]
    public async Task OnARealDiskTheSpareIsPreparedInTheBackground()
    {
        using var dir = new TempDir();
        var options = new RaftLogStoreOptions
        {
            Directory = dir.Path,
            SegmentBytes = 1 << 20,
            PreallocateSegments = true,
            AvailableBytes = () => DiskSpaceReserve.AvailableBytesOf(dir.Path),
        };
        var spare = Path.Combine(dir.Path, RaftLogStore.SpareName);
        using (var store = RaftLogStore.Open(options, 0, 0))
        {
            await Eventually.TrueAsync(() => File.Exists(spare), TimeSpan.FromSeconds(30), "the spare is prepared");
            for (var i = 1L; i <= 1200; i++)
            {
                store.Append(Entry(i, size: 1000)); // ~1.2 MB: into a second segment
                store.Flush(i);
            }

            Assert.True(store.PreallocatedSegments >= 1);
            await Eventually.TrueAsync(() => File.Exists(spare), TimeSpan.FromSeconds(30), "the next spare is prepared");
            Assert.Equal(1 << 20, new FileInfo(spare).Length);
        }

        using var reopened = RaftLogStore.Open(options, 0, 0);
        Assert.Equal(1200, reopened.LastIndex);
        AssertEntries(reopened, 1, 1200, size: 1000);
        Assert.Null(reopened.TornTail);
    }
}
