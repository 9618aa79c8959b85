namespace RaftKv.Storage.Tables;

/// <summary>Per-table properties stored in the meta block and mirrored in the manifest.</summary>
public sealed record TableMeta(long EntryCount, long MinIndex, long MaxIndex, long CreatedUnixMs, byte[] MinKey, byte[] MaxKey)
{
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
        return new TableMeta(count, minIndex, maxIndex, created, minKey, maxKey);
    }
}
