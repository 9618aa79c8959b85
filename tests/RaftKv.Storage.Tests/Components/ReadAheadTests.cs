using RaftKv.Storage.Tables;
using RaftKv.TestSupport.IO;

namespace RaftKv.Storage.Tests.Components;

/// <summary>Read-ahead for one-pass readers: every range comes back byte for byte, sequential
/// ranges share window reads, and reads never go past the end of the data.</summary>
public sealed class ReadAheadTests
{
    [Fact]
    public void ServesSequentialRangesFromFewWindowReads()
    {
        var (source, bytes) = File(1_000_000, seed: 8);
        var readAhead = new ReadAhead();
        var offset = 0L;
        var rng = new Random(9);
        var ranges = 0;
        while (offset < bytes.Length)
        {
            var length = (int)Math.Min(rng.Next(1, 9_000), bytes.Length - offset);
            var got = readAhead.TryRead(1, source, offset, length, bytes.Length);
            Assert.NotNull(got);
            Assert.True(got.AsSpan(0, length).SequenceEqual(bytes.AsSpan((int)offset, length)), $"range at {offset}");
            offset += length;
            ranges++;
        }

        Assert.True(ranges > 100);
        Assert.InRange(readAhead.Reads, (bytes.Length / ReadAhead.WindowBytes) + 1, (bytes.Length / ReadAhead.WindowBytes) + 2);
    }

    [Fact]
    public void LargeRangesAnotherTableAndGoingBackAreReadAgain()
    {
        var (source, bytes) = File(1_000_000, seed: 10);
        var readAhead = new ReadAhead();
        var big = readAhead.TryRead(1, source, 10, ReadAhead.WindowBytes + 5, bytes.Length);
        Assert.True(big!.AsSpan(0, ReadAhead.WindowBytes + 5).SequenceEqual(bytes.AsSpan(10, ReadAhead.WindowBytes + 5)));
        Assert.NotNull(readAhead.TryRead(1, source, 100, 50, bytes.Length));
        Assert.NotNull(readAhead.TryRead(2, source, 100, 50, bytes.Length)); // same offsets, other table
        Assert.NotNull(readAhead.TryRead(2, source, 40, 50, bytes.Length)); // before the window
        Assert.Equal(3, readAhead.Reads);
        var tail = readAhead.TryRead(2, source, bytes.Length - 30, 30, bytes.Length); // window clipped at the end
        Assert.True(tail!.AsSpan(0, 30).SequenceEqual(bytes.AsSpan(bytes.Length - 30)));
    }

    private static (IBlockSource Source, byte[] Bytes) File(int size, int seed)
    {
        var bytes = new byte[size];
        new Random(seed).NextBytes(bytes);
        var fs = new CrashableMemoryFileSystem();
        fs.CreateDirectory("/r");
        using (var f = fs.Create("/r/data"))
        {
            f.Append(bytes);
            f.Sync();
        }

        return (new LocalBlockSource(fs.OpenRead("/r/data")), bytes);
    }
}
