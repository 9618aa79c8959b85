using System.Buffers.Binary;
using RaftKv.Replication.Log;
using RaftKv.Storage;

namespace RaftKv.Replication.Tests.Log;

/// <summary>
/// Builds segment bytes by hand from the format as documented in <see cref="SegmentFormat"/> (not with its
/// writer), for v1 segments and damaged v2 ones.
/// </summary>
internal static class SegmentBytes
{
    public static byte[] HeaderV1(ushort version = 1, string magic = "RKVLOG")
    {
        var h = new byte[16];
        System.Text.Encoding.ASCII.GetBytes(magic).CopyTo(h, 0);
        BinaryPrimitives.WriteUInt16LittleEndian(h.AsSpan(6), version);
        BinaryPrimitives.WriteUInt32LittleEndian(h.AsSpan(12), Crc32C.Compute(h.AsSpan(0, 12)));
        return h;
    }

    public static byte[] HeaderV2(long sequence, long previousSequence = -1, long previousEnd = 0)
    {
        var h = new byte[40];
        "RKVLOG"u8.CopyTo(h);
        BinaryPrimitives.WriteUInt16LittleEndian(h.AsSpan(6), 2);
        BinaryPrimitives.WriteInt64LittleEndian(h.AsSpan(12), sequence);
        BinaryPrimitives.WriteInt64LittleEndian(h.AsSpan(20), previousSequence);
        BinaryPrimitives.WriteInt64LittleEndian(h.AsSpan(28), previousEnd);
        BinaryPrimitives.WriteUInt32LittleEndian(h.AsSpan(36), Crc32C.Compute(h.AsSpan(0, 36)));
        return h;
    }

    public static byte[] Record(ReadOnlySpan<byte> body)
    {
        var r = new byte[8 + body.Length];
        BinaryPrimitives.WriteUInt32LittleEndian(r, (uint)body.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(r.AsSpan(4), Crc32C.Compute(body));
        body.CopyTo(r.AsSpan(8));
        return r;
    }

    /// <summary>An entry record as <see cref="LogFixture.Entry"/> makes them (no command id).</summary>
    public static byte[] EntryRecord(long index, long term = 1, int? size = null)
    {
        var payload = LogFixture.Payload(index, term, size ?? LogFixture.SizeOf(index));
        var body = new byte[26 + payload.Length];
        body[0] = 1;
        BinaryPrimitives.WriteInt64LittleEndian(body.AsSpan(1), index);
        BinaryPrimitives.WriteInt64LittleEndian(body.AsSpan(9), term);
        BinaryPrimitives.WriteInt64LittleEndian(body.AsSpan(17), 638_000_000_000_000_000 + index);
        payload.CopyTo(body, 26);
        return Record(body);
    }

    public static byte[] CommitRecord(long commit)
    {
        var body = new byte[9];
        body[0] = 2;
        BinaryPrimitives.WriteInt64LittleEndian(body.AsSpan(1), commit);
        return Record(body);
    }

    /// <summary>A v2 batch of <paramref name="records"/> whose header sits at <paramref name="offset"/> of segment <paramref name="sequence"/>.</summary>
    public static byte[] Batch(long sequence, long offset, params byte[][] records)
    {
        var body = records.SelectMany(r => r).ToArray();
        var b = new byte[32 + body.Length];
        BinaryPrimitives.WriteUInt32LittleEndian(b, (uint)body.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(4), (uint)records.Length);
        BinaryPrimitives.WriteInt64LittleEndian(b.AsSpan(8), sequence);
        BinaryPrimitives.WriteInt64LittleEndian(b.AsSpan(16), offset);
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(28), Crc32C.Compute(b.AsSpan(0, 28)));
        body.CopyTo(b, 32);
        return b;
    }

    /// <summary>A v1 segment holding entries <paramref name="from"/>..<paramref name="to"/> and a commit record up to <paramref name="commit"/>.</summary>
    public static byte[] V1Segment(long from, long to, long commit)
    {
        var bytes = new List<byte>(HeaderV1());
        for (var i = from; i <= to; i++)
        {
            bytes.AddRange(EntryRecord(i));
        }

        bytes.AddRange(CommitRecord(commit));
        return [.. bytes];
    }

    public static byte[] ReadAll(Storage.IO.IFileSystem fs, string path)
    {
        using var file = fs.OpenRead(path);
        var data = new byte[file.Length];
        file.ReadExactly(0, data);
        return data;
    }

    /// <summary>Replaces a file's content durably.</summary>
    public static void Write(Storage.IO.IFileSystem fs, string path, ReadOnlySpan<byte> data)
    {
        using (var file = fs.Create(path))
        {
            file.Append(data);
            file.Sync();
        }

        fs.SyncDirectory(Path.GetDirectoryName(path)!.Replace('\\', '/'));
    }

    /// <summary>Offsets of the batch headers of a v2 segment, in order.</summary>
    public static List<int> BatchOffsets(byte[] segment)
    {
        var offsets = new List<int>();
        var p = 40;
        while (p + 32 <= segment.Length)
        {
            offsets.Add(p);
            p += 32 + (int)BinaryPrimitives.ReadUInt32LittleEndian(segment.AsSpan(p));
        }

        return offsets;
    }
}
