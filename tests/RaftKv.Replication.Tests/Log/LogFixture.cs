using RaftKv.Replication.Log;
using RaftKv.Storage.IO;

namespace RaftKv.Replication.Tests.Log;

/// <summary>Shared helpers of the Raft log storage tests: options, entries with checkable payloads, assertions.</summary>
internal static class LogFixture
{
    public const string Dir = "/node/log";

    public static RaftLogStoreOptions Options(IFileSystem fs, long segmentBytes = 64L << 20, long payloadCacheBytes = 64L << 20, string directory = Dir) => new()
    {
        Directory = directory,
        FileSystem = fs,
        SegmentBytes = segmentBytes,
        PayloadCacheBytes = payloadCacheBytes,
    };

    /// <summary>A payload whose bytes are a function of (index, term), so any record can be checked on its own.</summary>
    public static byte[] Payload(long index, long term, int size)
    {
        var bytes = new byte[size];
        for (var i = 0; i < size; i++)
        {
            bytes[i] = (byte)((index * 31) + (term * 7) + i);
        }

        return bytes;
    }

    public static int SizeOf(long index) => (int)(index * 37 % 200);

    public static LogRecord Entry(long index, long term = 1, int? size = null, int? commandId = null, bool configuration = false)
    {
        var payload = Payload(index, term, size ?? SizeOf(index));
        return new LogRecord
        {
            Index = index,
            Term = term,
            TimestampTicks = 638_000_000_000_000_000 + index,
            CommandId = commandId,
            IsConfiguration = configuration,
            Length = payload.Length,
            Payload = payload,
        };
    }

    public static void AppendRange(RaftLogStore store, long from, long to, long term = 1, int? size = null)
    {
        for (var i = from; i <= to; i++)
        {
            store.Append(Entry(i, term, size));
        }
    }

    /// <summary>Asserts the store holds exactly <paramref name="from"/>..<paramref name="to"/> of <paramref name="term"/>, payloads included.</summary>
    public static void AssertEntries(RaftLogStore store, long from, long to, long term = 1, int? size = null)
    {
        for (var i = from; i <= to; i++)
        {
            var r = store.Get(i);
            Assert.True(r is not null, $"entry {i} is missing (log {store.BaseIndex}..{store.LastIndex})");
            Assert.Equal(i, r.Index);
            Assert.Equal(term, r.Term);
            Assert.Equal(638_000_000_000_000_000 + i, r.TimestampTicks);
            var expected = Payload(i, term, size ?? SizeOf(i));
            Assert.Equal(expected.Length, r.Length);
            Assert.True(expected.AsSpan().SequenceEqual(store.ReadPayload(r)), $"entry {i}: payload differs");
        }
    }

    /// <summary>Segment paths in sequence order.</summary>
    public static List<string> Segments(IFileSystem fs, string directory = Dir)
        => fs.ListFiles(directory).Where(f => f.EndsWith(".seg", StringComparison.Ordinal)).Order(StringComparer.Ordinal).Select(f => directory + "/" + f).ToList();
}
