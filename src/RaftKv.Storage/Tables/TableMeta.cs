using System.Buffers.Binary;
using RaftKv.Storage.Blobs;

namespace RaftKv.Storage.Tables;

/// <summary>Per-table properties stored in the meta block and mirrored in the manifest.</summary>
public sealed record TableMeta(long EntryCount, long MinIndex, long MaxIndex, long CreatedUnixMs, byte[] MinKey, byte[] MaxKey)
{
    /// <summary>The value files the table's entries point into (format version 3; empty for older tables and for tables
    /// without separated values, whose meta block ends after the max key).</summary>
    public IReadOnlyList<BlobRef> BlobRefs { get; init; } = [];

    public byte[] Serialize()
    {
        var b = new List<byte>(64 + MinKey.Length + MaxKey.Length);
        Varint.Write(b, (ulong)EntryCount);
        Varint.Write(b, (ulong)MinIndex);
        Varint.Write(b, (ulong)MaxIndex);
        Varint.Write(b, (ulong)CreatedUnixMs);
        Varint.Write(b, (ulong)MinKey.Length);
        b.AddRange(MinKey);
        Varint.Write(b, (ulong)MaxKey.Length);
        b.AddRange(MaxKey);
        if (BlobRefs.Count > 0)
        {
            Varint.Write(b, (ulong)BlobRefs.Count);
            Span<byte> id = stackalloc byte[8];
            foreach (var r in BlobRefs)
            {
                BinaryPrimitives.WriteUInt64LittleEndian(id, r.FileId);
                b.AddRange(id);
                Varint.Write(b, (ulong)r.Bytes);
            }
        }

        return b.ToArray();
    }

    public static TableMeta Parse(byte[] p)
    {
        var pos = 0;
        var count = (long)Varint.Read(p, ref pos);
        var minIndex = (long)Varint.Read(p, ref pos);
        var maxIndex = (long)Varint.Read(p, ref pos);
        var created = (long)Varint.Read(p, ref pos);
        var l1 = (int)Varint.Read(p, ref pos);
        var minKey = p.AsSpan(pos, l1).ToArray();
        pos += l1;
        var l2 = (int)Varint.Read(p, ref pos);
        var maxKey = p.AsSpan(pos, l2).ToArray();
        pos += l2;
        var refs = new List<BlobRef>();
        if (pos < p.Length)
        {
            var n = (int)Varint.Read(p, ref pos);
            for (var i = 0; i < n; i++)
            {
                var id = BinaryPrimitives.ReadUInt64LittleEndian(p.AsSpan(pos));
                pos += 8;
                refs.Add(new BlobRef(id, (long)Varint.Read(p, ref pos)));
            }
        }

        return new TableMeta(count, minIndex, maxIndex, created, minKey, maxKey) { BlobRefs = refs };
    }
}
