using System.Buffers.Binary;
using RaftKv.Storage;

namespace RaftKv.Replication.Log;

internal sealed partial class RaftLogStore
{
    /// <summary>
    /// Opens the log in <see cref="RaftLogStoreOptions.Directory"/> on top of a snapshot at
    /// <paramref name="snapshotIndex"/> (term <paramref name="snapshotTerm"/>; 0/0 for none), replaying
    /// every segment (see <see cref="SegmentFormat"/>). Writing continues in a new segment.
    /// </summary>
    /// <exception cref="StorageCorruptionException">A segment header is foreign, or indexes have a gap.</exception>
    public static RaftLogStore Open(RaftLogStoreOptions options, long snapshotIndex, long snapshotTerm)
    {
        var store = new RaftLogStore(options);
        var fs = options.FileSystem;
        fs.CreateDirectory(options.Directory);
        var files = fs.ListFiles(options.Directory)
            .Select(p => (Ok: SegmentFormat.TryParseSequence(Path.GetFileName(p), out var seq), Seq: seq, Path: Path.Combine(options.Directory, Path.GetFileName(p))))
            .Where(f => f.Ok)
            .OrderBy(f => f.Seq)
            .ToList();

        var recs = new List<LogRecord>();
        long last = 0, durableCommit = 0;
        foreach (var (_, seq, path) in files)
        {
            long maxIndex = 0;
            var data = ReadAll(fs, path);
            store._nextSequence = seq + 1;
            if (data.Length < SegmentFormat.HeaderBytes)
            {
                store._segments.Add((seq, path, 0)); // created, then a crash before its header was synced
                continue;
            }

            SegmentFormat.CheckHeader(data, path);
            var offset = SegmentFormat.HeaderBytes;
            while (SegmentFormat.TryReadRecord(data, offset, out var body, out var next))
            {
                switch (body[0])
                {
                    case SegmentFormat.KindEntry:
                        var r = ParseEntry(body, path, offset);
                        if (r.Index <= last)
                        {
                            Drop(recs, r.Index);
                        }
                        else if (r.Index > last + 1 && !(last <= snapshotIndex && r.Index <= snapshotIndex + 1))
                        {
                            throw new StorageCorruptionException(path, $"log entry {r.Index} follows entry {last}: entries are missing");
                        }

                        last = r.Index;
                        maxIndex = Math.Max(maxIndex, r.Index);
                        if (r.Index > snapshotIndex)
                        {
                            recs.Add(r);
                        }

                        break;
                    case SegmentFormat.KindCommit:
                        durableCommit = Math.Max(durableCommit, BinaryPrimitives.ReadInt64LittleEndian(body[1..]));
                        break;
                    case SegmentFormat.KindTruncate:
                        var from = BinaryPrimitives.ReadInt64LittleEndian(body[1..]);
                        if (from <= last)
                        {
                            Drop(recs, from);
                            last = from - 1;
                        }

                        break;
                    case SegmentFormat.KindReset:
                        var resetBase = BinaryPrimitives.ReadInt64LittleEndian(body[1..]);
                        if (resetBase > snapshotIndex)
                        {
                            throw new StorageCorruptionException(path, $"the log was reset to index {resetBase}, past the newest snapshot ({snapshotIndex})");
                        }

                        recs.Clear();
                        last = resetBase;
                        break;
                    default:
                        throw new StorageCorruptionException(path, $"unknown log record kind {body[0]} at offset {offset}");
                }

                offset = next;
            }

            store._segments.Add((seq, path, maxIndex));
        }

        if (recs.Count > 0 && recs[0].Term < snapshotTerm)
        {
            // Terms never decrease along a log, so entries past the snapshot with an older term are a
            // stale suffix whose reset record (written after a snapshot installation) was lost in a crash.
            recs.Clear();
        }

        store._baseIndex = snapshotIndex;
        store._baseTerm = snapshotTerm;
        if (recs.Count > 0 && recs[0].Index != snapshotIndex + 1)
        {
            throw new StorageCorruptionException(options.Directory, $"the log resumes at entry {recs[0].Index} but the snapshot ends at {snapshotIndex}");
        }

        store._entries.AddRange(recs);
        store._cachedBytes = recs.Sum(r => (long)r.Length);
        var lastIndex = snapshotIndex + recs.Count;
        store._durableIndex = lastIndex;
        store._durableCommit = Math.Max(snapshotIndex, Math.Min(durableCommit, lastIndex));
        lock (store._lock)
        {
            store.EvictPayloads();
        }

        return store;
    }

    private static void Drop(List<LogRecord> recs, long from)
    {
        var keep = recs.FindIndex(r => r.Index >= from);
        if (keep >= 0)
        {
            recs.RemoveRange(keep, recs.Count - keep);
        }
    }

    private static LogRecord ParseEntry(ReadOnlySpan<byte> body, string path, int recordOffset)
    {
        if (body.Length < 26)
        {
            throw new StorageCorruptionException(path, $"log entry at offset {recordOffset} is too short");
        }

        var flags = body[25];
        if ((flags & 2) != 0 && body.Length < 30)
        {
            throw new StorageCorruptionException(path, $"log entry at offset {recordOffset} is too short for its command id");
        }

        int? commandId = (flags & 2) != 0 ? BinaryPrimitives.ReadInt32LittleEndian(body[26..]) : null;
        var prefix = 26 + (commandId is null ? 0 : 4);
        var payload = body[prefix..].ToArray();
        return new LogRecord
        {
            Index = BinaryPrimitives.ReadInt64LittleEndian(body[1..]),
            Term = BinaryPrimitives.ReadInt64LittleEndian(body[9..]),
            TimestampTicks = BinaryPrimitives.ReadInt64LittleEndian(body[17..]),
            IsConfiguration = (flags & 1) != 0,
            CommandId = commandId,
            Length = payload.Length,
            Payload = payload,
            Segment = path,
            PayloadOffset = recordOffset + SegmentFormat.RecordHeaderBytes + prefix,
        };
    }

    private static byte[] ReadAll(Storage.IO.IFileSystem fs, string path)
    {
        using var file = fs.OpenRead(path);
        var data = new byte[file.Length];
        file.ReadExactly(0, data);
        return data;
    }
}
