using RaftKv.Storage;

namespace RaftKv.Replication.Log;

internal static partial class SegmentFormat
{
    /// <summary>
    /// Finds the valid records of one segment by the recovery rules of its version (see the type's
    /// remarks). <paramref name="validEnd"/> is the end its successor recorded, or null when no later
    /// segment names it (then a torn final batch is allowed).
    /// </summary>
    /// <exception cref="StorageCorruptionException">Damage that is not a torn final write (path and offset).</exception>
    public static SegmentScan Scan(byte[] data, SegmentHeader header, long sequence, string path, long? validEnd)
    {
        if (validEnd is { } recorded && (recorded > data.Length || recorded < header.Length))
        {
            throw new StorageCorruptionException(path, Math.Min(recorded, data.Length), $"the segment is {data.Length} bytes but the next segment recorded that its valid data ends at {recorded}: written data is missing");
        }

        return header.Version == Version1 ? ScanV1(data, path, validEnd) : ScanV2(data, sequence, path, validEnd);
    }

    private static SegmentScan ScanV1(byte[] data, string path, long? validEnd)
    {
        var end = (int)(validEnd ?? data.Length);
        var span = data.AsSpan(0, end);
        var records = new List<(int Offset, int BodyLength)>();
        var offset = HeaderBytesV1;
        while (TryReadRecord(span, offset, out var length, out var next))
        {
            records.Add((offset, length));
            offset = next;
        }

        if (validEnd is not null && offset != end)
        {
            throw new StorageCorruptionException(path, offset, $"bad log record before the valid end ({end}) the next segment recorded");
        }

        return new SegmentScan(records, offset, validEnd is null && offset < data.Length ? $"v1 segment: {data.Length - offset} bytes after offset {offset} are not a valid record (a torn write)" : null);
    }

    private static SegmentScan ScanV2(byte[] data, long sequence, string path, long? validEnd)
    {
        var n = data.Length;
        var end = (int)(validEnd ?? n);
        var records = new List<(int Offset, int BodyLength)>();
        var batch = new List<(int Offset, int BodyLength)>();
        var p = HeaderBytesV2;
        while (p < end)
        {
            if (validEnd is null && IsZeroFrom(data, p))
            {
                break; // never written: the unused, zeroed space of a preallocated segment (or an empty tail)
            }

            if (end - p < BatchHeaderBytes)
            {
                return Damaged(Damage.Truncated, p, p, p, end, $"an incomplete batch header ({end - p} bytes)");
            }

            if (!TryReadBatchHeader(data.AsSpan(0, end), p, sequence, out var bodyLength, out var count))
            {
                return Damaged(Damage.BadHeader, p, p, p, p + BatchHeaderBytes, "a bad batch header");
            }

            var batchEnd = p + BatchHeaderBytes + bodyLength;
            if (batchEnd > end)
            {
                return Damaged(Damage.Truncated, p, p, p, end, $"a batch of {BatchHeaderBytes + bodyLength} bytes of which only {end - p} are present");
            }

            var span = data.AsSpan(0, (int)batchEnd);
            var o = p + BatchHeaderBytes;
            batch.Clear();
            while (o < batchEnd && batch.Count < count && TryReadRecord(span, o, out var length, out var next))
            {
                batch.Add((o, length));
                o = next;
            }

            if (o != batchEnd || batch.Count != count)
            {
                // The damaged record: as far as its length field says, if that is plausible.
                var recordEnd = (int)batchEnd;
                if (batchEnd - o >= RecordHeaderBytes)
                {
                    var length = System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(o));
                    recordEnd = length > 0 && length <= batchEnd - o - RecordHeaderBytes ? o + RecordHeaderBytes + (int)length : recordEnd;
                }

                var what = o == batchEnd ? $"a batch of {batch.Count} records where its header says {count}" : "a log record failing its length or CRC check";
                return Damaged(Damage.BadRecord, p, o, o, recordEnd, $"{what} in the batch at offset {p}", (int)batchEnd);
            }

            records.AddRange(batch);
            p = (int)batchEnd;
        }

        return new SegmentScan(records, p, null);

        SegmentScan Damaged(Damage kind, int batchAt, int at, int zeroFrom, int zeroTo, string what, int batchEnd = 0)
        {
            if (validEnd is { } recorded)
            {
                throw new StorageCorruptionException(path, at, $"{what}, before the valid end ({recorded}) the next segment recorded");
            }

            if (kind != Damage.Truncated)
            {
                var later = FindBatchAfter(data, sequence, batchAt);
                if (later >= 0)
                {
                    throw new StorageCorruptionException(path, at, $"{what}, followed by a valid batch at offset {later}: it was fsynced before that batch was written, so this is damage, not a torn write");
                }

                if (kind == Damage.BadRecord && batchEnd < n && !IsZeroFrom(data, batchEnd))
                {
                    throw new StorageCorruptionException(path, at, $"{what}; the batch is complete and {n - batchEnd} more bytes follow it, not all zero, so it is not the interrupted last write");
                }

                if (!HasZeroedSector(data, zeroFrom, zeroTo))
                {
                    throw new StorageCorruptionException(path, at, $"{what} in the last batch, which is complete and has no zeroed (unwritten) sector: damage, not a torn write");
                }
            }

            return new SegmentScan(records, batchAt, $"torn final batch at offset {batchAt} ({n - batchAt} bytes) dropped: {what}");
        }
    }

    private enum Damage
    {
        /// <summary>The batch (or its header) runs to the end of the file and is incomplete.</summary>
        Truncated,

        BadHeader,

        BadRecord,
    }

    /// <summary>
    /// The valid records of a segment (offset of each record and its body length), where its valid
    /// data ends, and what was dropped as a torn tail (null: nothing).
    /// </summary>
    public sealed record SegmentScan(List<(int Offset, int BodyLength)> Records, int ValidEnd, string? TornTail);
}
