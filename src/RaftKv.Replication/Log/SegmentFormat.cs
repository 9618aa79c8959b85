using System.Buffers;
using System.Buffers.Binary;
using RaftKv.Storage;

namespace RaftKv.Replication.Log;

/// <summary>
/// On-disk format of the Raft log (<c>{DataDir}/log/</c>): versions 1 and 2. New segments are written as
/// version 2; version 1 segments are still read (with the version 1 rules), so a data directory
/// upgrades in place and may hold v1 segments followed by v2 ones.
/// </summary>
/// <remarks>
/// <para><b>Files.</b> Segments named <c>{sequence:D10}.seg</c>. A segment is written append-only by one
/// flusher and never reopened for writing: after a restart, or once it passes
/// <see cref="RaftLogStoreOptions.SegmentBytes"/>, writing continues in a new segment with the next
/// sequence number. Recovery reads segments in sequence order. All integers are little-endian; every
/// checksum is CRC-32C.</para>
/// <para><b>Records</b> (both versions): u32 body length (1..<see cref="MaxBodyBytes"/>), u32 CRC of the
/// body, body. The body starts with a kind byte:</para>
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
/// <para><b>Version 1 segment</b>: header (16 bytes): magic <c>"RKVLOG"</c>, u16 version (1), u32 reserved
/// (0), u32 CRC of the first 12 bytes; then records back to back. A flush appended its records with one
/// write, but nothing on disk marks where a flush ended.</para>
/// <para><b>Version 2 segment</b>: header (40 bytes): magic <c>"RKVLOG"</c>, u16 version (2), u32 reserved
/// (0), i64 sequence (as in the file name), i64 previous segment's sequence (-1: none), i64 previous
/// segment's valid end (the byte length of its data that recovery or the writer accepted when this
/// segment was started), u32 CRC of the first 36 bytes. Then batches back to back. A batch is what one
/// flush wrote (one write, one fsync):</para>
/// <code>
/// batch header (32 bytes): u32 body length, u32 record count (>= 1), i64 segment sequence,
///                          i64 offset of this header in the segment, u32 reserved (0), u32 CRC of bytes 0..28
/// body:                    exactly <c>record count</c> records filling exactly <c>body length</c> bytes
/// </code>
/// <para>The offset field is also the segment's durable length when the batch was written (every earlier
/// batch was fsynced before this one was written); it and the sequence bind a header to its place, so
/// bytes left in a recycled disk block or copied from another segment never pass as a batch.</para>
/// <para><b>Recovery, version 2.</b> Only the last flush before a crash can be incomplete: flushes are
/// serialized, each is fsynced before the next starts, and a failed flush stops the store. So only the
/// final batch of the last segment may be torn; in any other place damage is corruption. Precisely,
/// scanning a segment batch by batch from its header:</para>
/// <list type="bullet">
/// <item>The segment has a successor whose header names it (previous sequence = this one): its data MUST
/// be whole batches ending exactly at the recorded valid end. Any damage before that end, or a file
/// shorter than it, is corruption; bytes after it are a torn tail an earlier recovery already dropped,
/// and are never read. (This is how a torn tail is kept out of the log for good: the segment is never
/// written again, and the next one records where its valid data ends.)</item>
/// <item>Otherwise (the last segment), a <b>torn tail</b>, dropped silently, is: fewer bytes left than a
/// batch header; or a valid batch header whose batch extends past the end of the file; or the last batch
/// of the file (nothing follows it) whose header or first bad record shows an unwritten sector: a
/// 512-byte-aligned sector overlapping it that is all zeros from the damage on, to the sector's end or
/// the end of the file (file systems return zeros for blocks a crash left unwritten, and for preallocated
/// or size-extended space; etcd's WAL uses the same test). Such a tail is never followed by a valid
/// batch of this segment (if one follows, the damaged batch was fsynced before it was written: pebble's
/// WAL sync-offset rule), so it is looked for, and its presence makes the damage corruption.</item>
/// <item>Anything else is <b>corruption</b>, reported as <see cref="StorageCorruptionException"/> with the
/// segment's path and the byte offset of the damage, and the store does not open: a bad record in a
/// batch followed by more bytes; a bad batch header followed by a valid batch; a last batch, complete to
/// the end of the file, with a bad record and no zeroed sector (a flipped byte, not an interrupted
/// write); a segment shorter than its successor says; an unknown record kind; a gap in entry indexes.</item>
/// </list>
/// <para><b>Why a complete last batch with a bad record is corruption.</b> The file systems RaftKv runs on
/// (ext4 data=ordered, xfs, btrfs) never show a crash's unwritten blocks as anything but zeros, and the
/// last batch may have been acknowledged (every flush is, once its fsync returns). A false alarm costs a
/// rebuild of one node from its peers (docs/operations.md); a silent drop loses acknowledged entries.
/// On a file system that may expose stale blocks after a crash (ext4 data=writeback) a torn write can
/// therefore stop the node. The torn bytes are not truncated away: the segment is never written again,
/// and the next segment's header records where its valid data ends.</para>
/// <para>A segment whose header is incomplete (a crash after the create, before its first write was
/// durable) or, when it is the last one, zeroed with no valid batch in it, holds nothing and is skipped;
/// the next segment's header then names the segment before it. A torn batch is dropped whole: a flush's
/// operations (truncate, entries, commit) are recovered all or none.</para>
/// <para><b>Recovery, version 1.</b> A record that is short, longer than <see cref="MaxBodyBytes"/> or fails
/// its CRC ends that segment (v1 cannot tell a torn write from damage). When a v2 segment names the v1
/// segment as its predecessor, the v1 segment must hold valid records up to the recorded end (an
/// upgraded directory keeps the v1 segment's state as the first v2 start saw it).</para>
/// <para><b>Replay.</b> Records are applied in order. An entry must extend the log by one (an index at or
/// below the last one implies a truncation). A gap in indexes above the snapshot is corruption.</para>
/// <para><b>Preallocated segments</b> (<c>RaftLogStore.Preallocation.cs</c>, on by default for a node on a real
/// disk): a segment may start as a file of <see cref="RaftLogStoreOptions.SegmentBytes"/> zeros, written and
/// synced ahead, that flushes overwrite from offset 0. Space after the last batch that is all zeros to the end
/// of the file was never written: recovery takes it as the end of the segment, not as a torn tail (nothing is
/// reported dropped), and a damaged last batch followed only by zeros is judged by the zeroed-sector rule
/// above (more bytes after it count only when some are not zero). A crash inside a flush leaves the
/// preallocated zeros in the sectors it did not reach: the same picture as an interrupted write at the end
/// of a growing file, so the rules above hold unchanged and the format version stays 2. A segment written
/// before this (no zero tail) reads as before; a release older than this one may call a torn write inside a
/// preallocated segment corruption (it treats any bytes after a complete bad batch as damage).</para>
/// <para><b>Durability.</b> A flush writes one batch (preceded by the segment header when the segment is
/// new) with one write and syncs the segment (fdatasync on Linux; and the directory when the segment is
/// new) before any of its entries counts as durable.</para>
/// </remarks>
internal static partial class SegmentFormat
{
    public const int HeaderBytesV1 = 16;
    public const int HeaderBytesV2 = 40;
    public const int BatchHeaderBytes = 32;
    public const int RecordHeaderBytes = 8;
    public const int MaxBodyBytes = 256 << 20;
    public const byte KindEntry = 1;
    public const byte KindCommit = 2;
    public const byte KindTruncate = 3;
    public const byte KindReset = 4;
    public const ushort Version1 = 1;
    public const ushort Version2 = 2;
    private static ReadOnlySpan<byte> Magic => "RKVLOG"u8;

    /// <summary>Bytes of an entry body before its payload.</summary>
    public static int EntryPrefixBytes(LogRecord r) => 1 + 8 + 8 + 8 + 1 + (r.CommandId is null ? 0 : 4);

    public static string SegmentName(long sequence) => sequence.ToString("D10", System.Globalization.CultureInfo.InvariantCulture) + ".seg";

    public static bool TryParseSequence(string fileName, out long sequence)
    {
        sequence = 0;
        return fileName.EndsWith(".seg", StringComparison.Ordinal) && long.TryParse(fileName.AsSpan(0, fileName.Length - 4), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out sequence);
    }

    /// <summary>Writes a version 2 segment header.</summary>
    public static void WriteHeader(IBufferWriter<byte> output, long sequence, long previousSequence, long previousEnd)
    {
        var span = output.GetSpan(HeaderBytesV2)[..HeaderBytesV2];
        Magic.CopyTo(span);
        BinaryPrimitives.WriteUInt16LittleEndian(span[6..], Version2);
        BinaryPrimitives.WriteUInt32LittleEndian(span[8..], 0);
        BinaryPrimitives.WriteInt64LittleEndian(span[12..], sequence);
        BinaryPrimitives.WriteInt64LittleEndian(span[20..], previousSequence);
        BinaryPrimitives.WriteInt64LittleEndian(span[28..], previousEnd);
        BinaryPrimitives.WriteUInt32LittleEndian(span[36..], Crc32C.Compute(span[..36]));
        output.Advance(HeaderBytesV2);
    }

    /// <summary>
    /// Reads a segment header. <see cref="HeaderState.Incomplete"/>: the file is shorter than a header;
    /// <see cref="HeaderState.Bad"/>: magic, checksum or sequence is wrong. An unknown version throws.
    /// </summary>
    public static SegmentHeader ReadHeader(ReadOnlySpan<byte> data, long sequence, string path)
    {
        if (data.Length < 8 || (data[..6].SequenceEqual(Magic) && data.Length < HeaderLength(BinaryPrimitives.ReadUInt16LittleEndian(data[6..]))))
        {
            return new SegmentHeader(HeaderState.Incomplete, 0, 0, -1, 0);
        }

        if (!data[..6].SequenceEqual(Magic))
        {
            return data.Length < HeaderBytesV1 ? new SegmentHeader(HeaderState.Incomplete, 0, 0, -1, 0) : new SegmentHeader(HeaderState.Bad, 0, 0, -1, 0);
        }

        var version = BinaryPrimitives.ReadUInt16LittleEndian(data[6..]);
        if (version == Version1)
        {
            var ok = BinaryPrimitives.ReadUInt32LittleEndian(data[12..]) == Crc32C.Compute(data[..12]);
            return new SegmentHeader(ok ? HeaderState.Valid : HeaderState.Bad, Version1, HeaderBytesV1, -1, 0);
        }

        if (version == Version2)
        {
            var ok = BinaryPrimitives.ReadUInt32LittleEndian(data[36..]) == Crc32C.Compute(data[..36])
                && BinaryPrimitives.ReadUInt32LittleEndian(data[8..]) == 0
                && BinaryPrimitives.ReadInt64LittleEndian(data[12..]) == sequence;
            return ok
                ? new SegmentHeader(HeaderState.Valid, Version2, HeaderBytesV2, BinaryPrimitives.ReadInt64LittleEndian(data[20..]), BinaryPrimitives.ReadInt64LittleEndian(data[28..]))
                : new SegmentHeader(HeaderState.Bad, Version2, HeaderBytesV2, -1, 0);
        }

        if (data.Length >= HeaderBytesV1 && BinaryPrimitives.ReadUInt32LittleEndian(data[12..]) == Crc32C.Compute(data[..12]))
        {
            throw new StorageCorruptionException(path, 6, $"log segment version {version} is not supported (this build reads {Version1} and {Version2})");
        }

        return new SegmentHeader(HeaderState.Bad, 0, 0, -1, 0); // a damaged version field
    }

    private static int HeaderLength(ushort version) => version == Version2 ? HeaderBytesV2 : HeaderBytesV1;

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
    /// Reads the record at <paramref name="offset"/>: false at the end of the valid data (end of
    /// <paramref name="data"/>, a short record, a bad length or CRC).
    /// </summary>
    public static bool TryReadRecord(ReadOnlySpan<byte> data, int offset, out int bodyLength, out int next)
    {
        bodyLength = 0;
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

        if (BinaryPrimitives.ReadUInt32LittleEndian(data[(offset + 4)..]) != Crc32C.Compute(data.Slice(offset + RecordHeaderBytes, (int)length)))
        {
            return false;
        }

        bodyLength = (int)length;
        next = offset + RecordHeaderBytes + (int)length;
        return true;
    }

    /// <summary>How a segment header reads.</summary>
    public enum HeaderState
    {
        /// <summary>The file is shorter than a header (created, then a crash before its first write was durable).</summary>
        Incomplete,

        /// <summary>Magic, checksum, reserved field or sequence is wrong.</summary>
        Bad,

        Valid,
    }

    /// <summary>A parsed segment header; <see cref="PreviousSequence"/> is -1 for v1 or none.</summary>
    public readonly record struct SegmentHeader(HeaderState State, int Version, int Length, long PreviousSequence, long PreviousEnd);
}
