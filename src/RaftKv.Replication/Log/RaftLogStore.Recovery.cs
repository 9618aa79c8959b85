using System.Buffers.Binary;
using RaftKv.Storage;

namespace RaftKv.Replication.Log;

internal sealed partial class RaftLogStore
{
    /// <summary>
    /// Opens the log in <see cref="RaftLogStoreOptions.Directory"/> on top of a snapshot at
    /// <paramref name="snapshotIndex"/> (term <paramref name="snapshotTerm"/>; 0/0 for none), replaying
    /// every segment by the recovery rules of its format version (see <see cref="SegmentFormat"/>): a
    /// torn final batch is dropped, any other damage refuses to open. Writing continues in a new segment.
    /// </summary>
    /// <exception cref="StorageCorruptionException">A segment is damaged other than by a torn final write, a
    /// header is foreign, or indexes have a gap; it names the file and, where known, the byte offset.</exception>
    public static RaftLogStore Open(RaftLogStoreOptions options, long snapshotIndex, long snapshotTerm)
    {
        var store = new RaftLogStore(options);
        var fs = options.FileSystem;
        fs.CreateDirectory(options.Directory);
        var files = fs.ListFiles(options.Directory)
            .Select(p => (Ok: SegmentFormat.TryParseSequence(Path.GetFileName(p), out var seq), Seq: seq, Path: Path.Combine(options.Directory, Path.GetFileName(p))))
            .Where(f => f.Ok)
            .OrderBy(f => f.Seq)
            .Select(f => (f.Seq, f.Path))
            .ToList();
        var headers = files.Select(f => SegmentFormat.ReadHeader(ReadPrefix(fs, f.Path, SegmentFormat.HeaderBytesV2), f.Seq, f.Path)).ToList();

        var recs = new List<LogRecord>();
        long last = 0, durableCommit = 0;
        for (var i = 0; i < files.Count; i++)
        {
            var (seq, path) = files[i];
            var header = headers[i];
            store._nextSequence = seq + 1;
            var (validEnd, skipped) = SuccessorView(files, headers, i);
            if (header.State == SegmentFormat.HeaderState.Incomplete || skipped)
            {
                if (validEnd is { } recorded)
                {
                    throw new StorageCorruptionException(path, fs.GetLength(path), $"the segment is {fs.GetLength(path)} bytes but the next segment recorded that its valid data ends at {recorded}: written data is missing");
                }

                store._segments.Add((seq, path, 0)); // created, then a crash before its first write was durable (or judged so before)
                continue;
            }

            var data = ReadAll(fs, path);
            if (header.State == SegmentFormat.HeaderState.Bad)
            {
                // Only the last segment's header can be torn (written with its first batch, never synced).
                var isLast = headers.Skip(i + 1).All(h => h.State != SegmentFormat.HeaderState.Valid);
                if (isLast && SegmentFormat.HasZeroedSector(data, 0, SegmentFormat.HeaderBytesV2) && SegmentFormat.FindBatchAfter(data, seq, 0) < 0)
                {
                    store.TornTail = $"{path}: torn segment header (zeroed), segment dropped";
                    store._segments.Add((seq, path, 0));
                    continue;
                }

                throw new StorageCorruptionException(path, 0, "not a RaftKv log segment (bad header)");
            }

            var scan = SegmentFormat.Scan(data, header, seq, path, validEnd);
            if (scan.TornTail is { } torn)
            {
                store.TornTail = $"{path}: {torn}";
            }

            long maxIndex = 0;
            foreach (var (offset, length) in scan.Records)
            {
                var body = data.AsSpan(offset + SegmentFormat.RecordHeaderBytes, length);
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
                            throw new StorageCorruptionException(path, offset, $"log entry {r.Index} follows entry {last}: entries are missing");
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
                            throw new StorageCorruptionException(path, offset, $"the log was reset to index {resetBase}, past the newest snapshot ({snapshotIndex})");
                        }

                        recs.Clear();
                        last = resetBase;
                        break;
                    default:
                        throw new StorageCorruptionException(path, offset, $"unknown log record kind {body[0]}");
                }
            }

            store._segments.Add((seq, path, maxIndex));
            store._previousSegment = (seq, scan.ValidEnd);
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

        store.InitSpare(); // RaftLogStore.Preallocation.cs
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
            throw new StorageCorruptionException(path, recordOffset, "log entry is too short");
        }

        var flags = body[25];
        if ((flags & 2) != 0 && body.Length < 30)
        {
            throw new StorageCorruptionException(path, recordOffset, "log entry is too short for its command id");
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

    /// <summary>
    /// What the first later segment with a valid header says of segment <paramref name="i"/>: the end of
    /// its valid data when it names it as its predecessor; skipped when it names an earlier one (this
    /// segment held nothing valid when it was started).
    /// </summary>
    private static (long? ValidEnd, bool Skipped) SuccessorView(List<(long Seq, string Path)> files, List<SegmentFormat.SegmentHeader> headers, int i)
    {
        var next = headers.FindIndex(i + 1, h => h.State == SegmentFormat.HeaderState.Valid);
        if (next < 0 || headers[next].Version != SegmentFormat.Version2)
        {
            return (null, false); // the last segment, or v1 followed by v1 (v1 records no predecessor)
        }

        var previous = headers[next].PreviousSequence;
        var seq = files[i].Seq;
        if (previous == seq)
        {
            return (headers[next].PreviousEnd, false);
        }

        if (previous < seq)
        {
            return (null, true);
        }

        if (!files.Exists(f => f.Seq == previous))
        {
            throw new StorageCorruptionException(files[next].Path, 20, $"the segment was started after segment {previous}, which is missing");
        }

        return (null, false); // the segment in between is damaged: reported when it is reached
    }

    private static byte[] ReadPrefix(Storage.IO.IFileSystem fs, string path, int max)
    {
        using var file = fs.OpenRead(path);
        var data = new byte[Math.Min(max, file.Length)];
        file.ReadExactly(0, data);
        return data;
    }

    private static byte[] ReadAll(Storage.IO.IFileSystem fs, string path)
    {
        using var file = fs.OpenRead(path);
        var data = new byte[file.Length];
        file.ReadExactly(0, data);
        return data;
    }
}
