using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using RaftKv.Storage;

namespace RaftKv.Replication.Log;

internal static partial class SegmentFormat
{
    /// <summary>Sector size of the torn-write test: a crash leaves whole sectors unwritten (read as zeros).</summary>
    public const int SectorBytes = 512;

    /// <summary>Reserves a batch header at the end of <paramref name="output"/>; returns its position there.</summary>
    public static int BeginBatch(ArrayBufferWriter<byte> output)
    {
        var at = output.WrittenCount;
        output.GetSpan(BatchHeaderBytes)[..BatchHeaderBytes].Clear();
        output.Advance(BatchHeaderBytes);
        return at;
    }

    /// <summary>
    /// Fills the batch header reserved at <paramref name="at"/> for the <paramref name="count"/> records
    /// written after it; <paramref name="fileOffset"/> is where the header lands in the segment.
    /// </summary>
    public static void FinishBatch(ArrayBufferWriter<byte> output, int at, int count, long sequence, long fileOffset)
    {
        var batch = MemoryMarshal.AsMemory(output.WrittenMemory).Span[at..];
        var body = batch.Length - BatchHeaderBytes;
        if (count < 1 || body < RecordHeaderBytes)
        {
            throw new InvalidOperationException($"a log batch needs at least one record ({count} records, {body} bytes)");
        }

        BinaryPrimitives.WriteUInt32LittleEndian(batch, (uint)body);
        BinaryPrimitives.WriteUInt32LittleEndian(batch[4..], (uint)count);
        BinaryPrimitives.WriteInt64LittleEndian(batch[8..], sequence);
        BinaryPrimitives.WriteInt64LittleEndian(batch[16..], fileOffset);
        BinaryPrimitives.WriteUInt32LittleEndian(batch[24..], 0);
        BinaryPrimitives.WriteUInt32LittleEndian(batch[28..], Crc32C.Compute(batch[..28]));
    }

    /// <summary>
    /// Reads the batch header at <paramref name="offset"/>: false unless it is whole, its CRC holds, and
    /// it names this segment and this offset. The body may extend past the data (the caller checks).
    /// </summary>
    public static bool TryReadBatchHeader(ReadOnlySpan<byte> data, int offset, long sequence, out long bodyLength, out int count)
    {
        bodyLength = 0;
        count = 0;
        if (data.Length - offset < BatchHeaderBytes)
        {
            return false;
        }

        var h = data.Slice(offset, BatchHeaderBytes);
        if (BinaryPrimitives.ReadInt64LittleEndian(h[8..]) != sequence || BinaryPrimitives.ReadInt64LittleEndian(h[16..]) != offset
            || BinaryPrimitives.ReadUInt32LittleEndian(h[24..]) != 0 || BinaryPrimitives.ReadUInt32LittleEndian(h[28..]) != Crc32C.Compute(h[..28]))
        {
            return false;
        }

        bodyLength = BinaryPrimitives.ReadUInt32LittleEndian(h);
        count = (int)Math.Min(int.MaxValue, BinaryPrimitives.ReadUInt32LittleEndian(h[4..]));
        return count >= 1 && bodyLength >= (long)count * (RecordHeaderBytes + 1);
    }

    /// <summary>The offset of the first valid batch header of segment <paramref name="sequence"/> after <paramref name="offset"/>, or -1.</summary>
    public static int FindBatchAfter(ReadOnlySpan<byte> data, long sequence, int offset)
    {
        // A header at q holds q (> 0) in its bytes 16..23, so it starts at least 16 bytes before the last
        // non-zero byte: a preallocated segment's zeroed tail (tens of MiB) is not searched byte by byte.
        var last = Math.Min(data.Length - BatchHeaderBytes, data.LastIndexOfAnyExcept((byte)0) - 16);
        for (var q = offset + 1; q <= last; q++)
        {
            // Cheap fields first: a header names its segment and its own offset.
            if (BinaryPrimitives.ReadInt64LittleEndian(data[(q + 16)..]) == q && TryReadBatchHeader(data, q, sequence, out _, out _))
            {
                return q;
            }
        }

        return -1;
    }

    /// <summary>
    /// True when a <see cref="SectorBytes"/>-aligned sector overlapping <paramref name="from"/>..<paramref name="to"/>
    /// is all zeros from <paramref name="from"/> on, up to its end or the end of the file: what a crash leaves
    /// where a sector of an interrupted write never reached the disk (etcd's torn-write test, except that a
    /// sector is clipped only where the damaged data starts and where the file ends, never in between).
    /// </summary>
    public static bool HasZeroedSector(ReadOnlySpan<byte> data, int from, int to)
    {
        to = Math.Min(to, data.Length);
        var start = from;
        while (start < to)
        {
            var end = Math.Min(data.Length, ((start / SectorBytes) + 1) * SectorBytes);
            if (!data[start..end].ContainsAnyExcept((byte)0))
            {
                return true;
            }

            start = end;
        }

        return false;
    }

    /// <summary>True when every byte from <paramref name="from"/> to the end of <paramref name="data"/> is zero
    /// (nothing was ever written there: a preallocated segment's unused space, or an empty tail).</summary>
    public static bool IsZeroFrom(ReadOnlySpan<byte> data, int from) => !data[Math.Min(from, data.Length)..].ContainsAnyExcept((byte)0);
}
