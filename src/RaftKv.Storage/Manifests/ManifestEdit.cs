using System.Text;

namespace RaftKv.Storage.Manifests;

/// <summary>
/// One atomic change to the live table set; encoded as one checksummed manifest record
/// (see Manifest.cs for the file layout).
/// </summary>
public sealed class ManifestEdit
{
    private const byte AddTag = 1;
    private const byte RemoveTag = 2;
    private const byte DurableTag = 3;
    private const byte NextFileTag = 4;
    private const byte RemoteTag = 5;

    public List<ManifestTable> Added { get; } = [];

    public List<long> Removed { get; } = [];

    public List<(long Id, string ObjectName)> MadeRemote { get; } = [];

    public long? DurableIndex { get; set; }

    public long? NextFileNumber { get; set; }

    public byte[] Encode()
    {
        var b = new List<byte>(256);
        foreach (var t in Added)
        {
            b.Add(AddTag);
            Varint.Write(b, (ulong)t.Id);
            Varint.Write(b, (ulong)t.Level);
            Varint.Write(b, (ulong)t.Size);
            Varint.Write(b, (ulong)t.EntryCount);
            Varint.Write(b, (ulong)t.MinIndex);
            Varint.Write(b, (ulong)t.MaxIndex);
            Varint.Write(b, (ulong)t.CreatedUnixMs);
            Varint.WriteBytes(b, t.MinKey);
            Varint.WriteBytes(b, t.MaxKey);
            Varint.Write(b, (ulong)t.TailOffset);
            Varint.WriteBytes(b, t.ObjectName is null ? [] : Encoding.UTF8.GetBytes(t.ObjectName));
        }

        foreach (var id in Removed)
        {
            b.Add(RemoveTag);
            Varint.Write(b, (ulong)id);
        }

        foreach (var (id, name) in MadeRemote)
        {
            b.Add(RemoteTag);
            Varint.Write(b, (ulong)id);
            Varint.WriteBytes(b, Encoding.UTF8.GetBytes(name));
        }

        if (DurableIndex is { } d)
        {
            b.Add(DurableTag);
            Varint.Write(b, (ulong)d);
        }

        if (NextFileNumber is { } n)
        {
            b.Add(NextFileTag);
            Varint.Write(b, (ulong)n);
        }

        return b.ToArray();
    }

    public static ManifestEdit Decode(byte[] p)
    {
        var e = new ManifestEdit();
        var pos = 0;
        while (pos < p.Length)
        {
            switch (p[pos++])
            {
                case AddTag:
                    var id = (long)Varint.Read(p, ref pos);
                    var level = (int)Varint.Read(p, ref pos);
                    var size = (long)Varint.Read(p, ref pos);
                    var count = (long)Varint.Read(p, ref pos);
                    var minIndex = (long)Varint.Read(p, ref pos);
                    var maxIndex = (long)Varint.Read(p, ref pos);
                    var created = (long)Varint.Read(p, ref pos);
                    var minKey = Varint.ReadBytes(p, ref pos);
                    var maxKey = Varint.ReadBytes(p, ref pos);
                    var tail = (long)Varint.Read(p, ref pos);
                    var obj = Varint.ReadBytes(p, ref pos);
                    e.Added.Add(new ManifestTable(id, level, size, count, minIndex, maxIndex, created, minKey, maxKey, tail, obj.Length == 0 ? null : Encoding.UTF8.GetString(obj)));
                    break;
                case RemoveTag:
                    e.Removed.Add((long)Varint.Read(p, ref pos));
                    break;
                case RemoteTag:
                    var rid = (long)Varint.Read(p, ref pos);
                    e.MadeRemote.Add((rid, Encoding.UTF8.GetString(Varint.ReadBytes(p, ref pos))));
                    break;
                case DurableTag:
                    e.DurableIndex = (long)Varint.Read(p, ref pos);
                    break;
                case NextFileTag:
                    e.NextFileNumber = (long)Varint.Read(p, ref pos);
                    break;
                default:
                    throw new FormatException($"unknown manifest record tag {p[pos - 1]}");
            }
        }

        return e;
    }
}
