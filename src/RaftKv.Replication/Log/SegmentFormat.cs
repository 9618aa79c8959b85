using System.Buffers;
using System.Buffers.Binary;
using RaftKv.Storage;

namespace RaftKv.Replication.Log;

/// <summary>
/// On-disk format of the Raft log (<c>{DataDir}/log/</c>), version 1.
/// </summary>
/// <remarks>
/// <para><b>Files.</b> Segments named <c>{sequence:D10}.seg</c>. A segment is written append-only by one
/// flusher and never reopened for writing: after a restart, or once it passes
/// <see cref="RaftLogStoreOptions.SegmentBytes"/>, writing continues in a new segment with the next
/// sequence number. Recovery reads segments in sequence order.</para>
/// <para><b>Segment header</b> (16 bytes): magic <c>"RKVLOG"</c>, u16 version (1), u32 reserved (0),
/// u32 CRC-32C of the first 12 bytes.</para>
/// <para><b>Records</b> follow back to back: u32 body length, u32 CRC-32C of the body, body. All integers
/// little-endian. The body starts with a kind byte:</para>
/// <list type="table">
/// <item><term>1 Entry</term><description>i64 index, i64 term, i64 timestamp (UTC ticks), u8 flags
/// (1 = configuration entry, 2 = a command id follows), [i32 command id], payload (the rest).</description></item>
/// <item><term>2 Commit</term><description>i64 commit index: every entry up to it is committed (a hint for
/// replay at start-up; written with the next flush, so it may lag).</description></item>
/// <item><term>3 Truncate</term><description>i64 from: entries at and above <c>from</c> are discarded (a new
/// leader overwrote an uncommitted suffix).</description></item>
/// <item><term>4 Reset</term><description>i64 base index, i64 base term: the whole log is discarded; it
/// continues after <c>base</c> (a snapshot up to <c>base</c> was installed).</description></item>
/// </list>
/// <para><b>Recovery.</b> Records are replayed in order. An entry must extend the log by one (an index at
/// or below the last one implies a truncation). A record that is short, longer than
/// <see cref="MaxBodyBytes"/> or fails its CRC ends that segment (a torn write at a crash: the flusher
/// never acknowledged it). A gap in indexes above the snapshot is corruption and stops the node.</para>
/// <para><b>Durability.</b> A flush appends its records with one write and fsyncs the segment (and the
/// directory when the segment is new) before any of its entries counts as durable.</para>
/// </remarks>
internal static class SegmentFormat
{
    public const int HeaderBytes = 16;
    public const int RecordHeaderBytes = 8;
    public const int MaxBodyBytes = 256 << 20;
    public const byte KindEntry = 1;
    public const byte KindCommit = 2;
    public const byte KindTruncate = 3;
    public const byte KindReset = 4;
    private const ushort Version = 1;
    private static ReadOnlySpan<byte> Magic => "RKVLOG"u8;

    /// <summary>Bytes of an entry body before its payload.</summary>
    public static int EntryPrefixBytes(LogRecord r) => 1 + 8 + 8 + 8 + 1 + (r.CommandId is null ? 0 : 4);

    public static string SegmentName(long sequence) => sequence.ToString("D10", System.Globalization.CultureInfo.InvariantCulture) + ".seg";

    public static bool TryParseSequence(string fileName, out long sequence)
    {
        sequence = 0;
        return fileName.EndsWith(".seg", StringComparison.Ordinal) && long.TryParse(fileName.AsSpan(0, fileName.Length - 4), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out sequence);
    }

    public static void WriteHeader(IBufferWriter<byte> output)
    {
        var span = output.GetSpan(HeaderBytes)[..HeaderBytes];
        Magic.CopyTo(span);
        BinaryPrimitives.WriteUInt16LittleEndian(span[6..], Version);
        BinaryPrimitives.WriteUInt32LittleEndian(span[8..], 0);
        BinaryPrimitives.WriteUInt32LittleEndian(span[12..], Crc32C.Compute(span[..12]));
        output.Advance(HeaderBytes);
    }

    public static void CheckHeader(ReadOnlySpan<byte> header, string path)
    {
        if (header.Length < HeaderBytes || !header[..6].SequenceEqual(Magic) || BinaryPrimitives.ReadUInt32LittleEndian(header[12..]) != Crc32C.Compute(header[..12]))
        {
            throw new StorageCorruptionException(path, "not a RaftKv log segment (bad header)");
        }

        var version = BinaryPrimitives.ReadUInt16LittleEndian(header[6..]);
        if (version != Version)
        {
            throw new StorageCorruptionException(path, $"log segment version {version} is not supported (this build reads {Version})");
        }
    }

    /// <summary>Appends an entry record; returns the offset of its payload relative to the record's start.</summary>
    public static int WriteEntry(IBufferWriter<byte> output, LogRecord r, ReadOnlySpan<byte> payload)
    {
        var prefix = EntryPrefixBytes(r);
        var body = prefix + payload.Length;
        var span = output.GetSpan(RecordHeaderBytes + body)[..(RecordHeaderBytes + body)];
        var b = span[RecordHeaderBytes..];
        b[0] = KindEntry;
        BinaryPrimitives.WriteInt64LittleEndian(b[1..], r.Index);
        BinaryPrimitives.WriteInt64LittleEndian(b[9..], r.Term);
        BinaryPrimitives.WriteInt64LittleEndian(b[17..], r.TimestampTicks);
        b[25] = (byte)((r.IsConfiguration ? 1 : 0) | (r.CommandId is null ? 0 : 2));
        if (r.CommandId is { } id)
        {
            BinaryPrimitives.WriteInt32LittleEndian(b[26..], id);
        }

        payload.CopyTo(b[prefix..]);
        FinishRecord(span, body);
        output.Advance(RecordHeaderBytes + body);
        return RecordHeaderBytes + prefix;
    }

    public static void WriteMarker(IBufferWriter<byte> output, byte kind, long a, long b = 0)
    {
        var body = kind == KindReset ? 17 : 9;
        var span = output.GetSpan(RecordHeaderBytes + body)[..(RecordHeaderBytes + body)];
        span[RecordHeaderBytes] = kind;
        BinaryPrimitives.WriteInt64LittleEndian(span[(RecordHeaderBytes + 1)..], a);
        if (kind == KindReset)
        {
            BinaryPrimitives.WriteInt64LittleEndian(span[(RecordHeaderBytes + 9)..], b);
        }

        FinishRecord(span, body);
        output.Advance(RecordHeaderBytes + body);
    }

    private static void FinishRecord(Span<byte> span, int body)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(span, (uint)body);
        BinaryPrimitives.WriteUInt32LittleEndian(span[4..], Crc32C.Compute(span.Slice(RecordHeaderBytes, body)));
    }

    /// <summary>
    /// Reads the record at <paramref name="offset"/>: false at the end of the valid data (end of file,
    /// a torn or corrupt record). <paramref name="body"/> is a slice of <paramref name="data"/>.
    /// </summary>
    public static bool TryReadRecord(ReadOnlySpan<byte> data, int offset, out ReadOnlySpan<byte> body, out int next)
    {
        body = default;
        next = offset;
        if (data.Length - offset < RecordHeaderBytes)
        {
            return false;
        }

        var length = BinaryPrimitives.ReadUInt32LittleEndian(data[offset..]);
        if (length == 0 || length > MaxBodyBytes || length > data.Length - offset - RecordHeaderBytes)
        {
            return false;
        }

        var candidate = data.Slice(offset + RecordHeaderBytes, (int)length);
        if (BinaryPrimitives.ReadUInt32LittleEndian(data[(offset + 4)..]) != Crc32C.Compute(candidate))
        {
            return false;
        }

        body = candidate;
        next = offset + RecordHeaderBytes + (int)length;
        return true;
    }
}
