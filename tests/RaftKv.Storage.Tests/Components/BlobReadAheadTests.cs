using RaftKv.Storage.Blobs;
using RaftKv.TestSupport.IO;

namespace RaftKv.Storage.Tests.Components;

/// <summary>Value-file read-ahead (<see cref="BlobReadAhead"/>): values read in file order come back byte for byte from
/// few window fills, windows grow only while reading is sequential, interleaved files each keep a window, and the
/// record checks (CRC, end of file) hold for values served from a window as for single reads.</summary>
public sealed class BlobReadAheadTests
{
    private const string Dir = "/db";

    /// <summary>A complete value file of <paramref name="count"/> values of random small sizes, referenced by a table.</summary>
    private static (BlobSet Set, List<(BlobPointer Pointer, byte[] Value)> Values) WriteFile(CrashableMemoryFileSystem fs, int count, int seed, BlobSet? set = null)
    {
        fs.CreateDirectory(Dir);
        set ??= new BlobSet(fs, Dir);
        var rng = new Random(seed);
        var values = new List<(BlobPointer, byte[])>();
        var writer = set.Create();
        for (var i = 0; i < count; i++)
        {
            var value = new byte[rng.Next(1, 700)];
            rng.NextBytes(value);
            values.Add((writer.Append(value), value));
        }

        var size = writer.Finish();
        set.Acquire([new BlobRef(writer.Id, values.Sum(v => (long)v.Item2.Length))], "/db/t.sst");
        set.ReleaseCreator(writer, size);
        return (set, values);
    }

    [Fact]
    public void SequentialValuesComeFromFewGrowingWindows()
    {
        var fs = new CrashableMemoryFileSystem();
        var (set, values) = WriteFile(fs, 5_000, seed: 3);
        var readAhead = new BlobReadAhead();
        foreach (var (p, value) in values)
        {
            Assert.Equal(value, set.Read(p, "/db/t.sst", readAhead));
        }

        var fileBytes = values[^1].Pointer.Offset + values[^1].Pointer.Length;
        Assert.True(fileBytes > 20 * BlobReadAhead.MaxWindowBytes, $"file of {fileBytes} bytes");

        // Windows double from 8 KiB to 64 KiB, then stay there: about one fill per 64 KiB (straddled records are re-read).
        Assert.InRange(readAhead.Fills, fileBytes / BlobReadAhead.MaxWindowBytes, (fileBytes / BlobReadAhead.MaxWindowBytes) + 10);
    }

    [Fact]
    public void JumpingAroundReadsSmallWindowsAndStillReturnsEveryValue()
    {
        var fs = new CrashableMemoryFileSystem();
        var (set, values) = WriteFile(fs, 2_000, seed: 4);
        var readAhead = new BlobReadAhead();
        var rng = new Random(5);
        const int Reads = 300;
        for (var i = 0; i < Reads; i++)
        {
            var (p, value) = values[rng.Next(values.Count)];
            Assert.Equal(value, set.Read(p, "/db/t.sst", readAhead));
        }

        // Random reads miss nearly always, and a miss reads a minimum-size window (a grown one only after a jump that
        // happened to land just past the last window): the bytes read stay a small multiple of single reads'.
        Assert.InRange(readAhead.Fills, Reads / 2, Reads);
        Assert.True(readAhead.BytesFilled <= Reads * 2L * BlobReadAhead.MinWindowBytes, $"{readAhead.BytesFilled} bytes for {Reads} random reads");
    }

    [Fact]
    public void InterleavedFilesEachKeepTheirWindow()
    {
        var fs = new CrashableMemoryFileSystem();
        var (set, a) = WriteFile(fs, 1_000, seed: 6);
        var (_, b) = WriteFile(fs, 1_000, seed: 7, set);
        var (_, c) = WriteFile(fs, 1_000, seed: 8, set);
        var readAhead = new BlobReadAhead();
        for (var i = 0; i < 1_000; i++)
        {
            foreach (var (p, value) in new[] { a[i], b[i], c[i] })
            {
                Assert.Equal(value, set.Read(p, "/db/t.sst", readAhead));
            }
        }

        var bytes = new[] { a, b, c }.Sum(f => f[^1].Pointer.Offset + f[^1].Pointer.Length);
        Assert.InRange(readAhead.Fills, bytes / BlobReadAhead.MaxWindowBytes, (bytes / BlobReadAhead.MaxWindowBytes) + 30);
    }

    [Fact]
    public void ACorruptValueInAWindowIsCorruption()
    {
        var fs = new CrashableMemoryFileSystem();
        var (set, values) = WriteFile(fs, 200, seed: 9);
        var name = fs.ListFiles(Dir).Single(n => BlobSet.ParseName(n) is not null);
        var victim = values[150].Pointer;
        fs.Corrupt($"{Dir}/{name}", victim.Offset + BlobWriter.RecordHeaderSize); // before any read opens the file

        var readAhead = new BlobReadAhead();
        for (var i = 0; i < 150; i++)
        {
            Assert.Equal(values[i].Value, set.Read(values[i].Pointer, "/db/t.sst", readAhead));
        }

        Assert.True(readAhead.TryGet(victim.FileId, victim.Offset, BlobWriter.RecordHeaderSize + victim.Length, out _), "the corrupt record is in the window");
        var e = Assert.Throws<StorageCorruptionException>(() => set.Read(victim, "/db/t.sst", readAhead));
        Assert.Contains(BlobSet.FileName(victim.FileId), e.Message, StringComparison.Ordinal);
        Assert.Equal(values[151].Value, set.Read(values[151].Pointer, "/db/t.sst", readAhead));
    }

    [Fact]
    public void APointerPastTheEndOfACompleteFileIsCorruption()
    {
        var fs = new CrashableMemoryFileSystem();
        var (set, values) = WriteFile(fs, 10, seed: 10);
        var last = values[^1].Pointer;
        var beyond = last with { Offset = last.Offset + 8 };
        Assert.Throws<StorageCorruptionException>(() => set.Read(beyond, "/db/t.sst", new BlobReadAhead()));
        Assert.Throws<StorageCorruptionException>(() => set.Read(beyond, "/db/t.sst"));
    }
}
