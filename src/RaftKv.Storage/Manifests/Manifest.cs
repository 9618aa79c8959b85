using System.Buffers.Binary;
using System.Text;
using RaftKv.Storage.IO;

namespace RaftKv.Storage.Manifests;

/// <summary>
/// The durable record of the live table set, the durable Raft index and the next file number.
/// </summary>
/// <remarks>
/// <para>Layout: <c>CURRENT</c> holds the name of the active manifest file (e.g. <c>MANIFEST-000007</c>),
/// replaced atomically (write temp, fsync, rename, fsync dir). A manifest file is a sequence of
/// records <c>magic:u32 length:u32 crc:u32 payload[length]</c> where crc = CRC32C(payload) and the
/// payload is one <see cref="ManifestEdit"/>; the first record is a full snapshot of the state.
/// A record cut short at the end of the file is a torn (never acknowledged) write and is ignored;
/// a checksum mismatch anywhere else is reported as corruption naming the file.</para>
/// <para>Every <see cref="Append"/> fsyncs before returning: an edit is durable when Append returns.
/// Not thread-safe: the store serializes calls under its manifest lock.</para>
/// </remarks>
public sealed class Manifest : IDisposable
{
    public const uint RecordMagic = 0x52564B4D; // "MKVR"
    private const long RewriteThreshold = 4 << 20;

    private readonly IFileSystem _fs;
    private readonly string _dir;
    private IWritableFile? _file;
    private long _fileNumber;

    private Manifest(IFileSystem fs, string dir)
    {
        _fs = fs;
        _dir = dir;
    }

    public Dictionary<long, ManifestTable> Tables { get; } = [];

    public long DurableIndex { get; private set; }

    public long NextFileNumber { get; set; } = 1;

    /// <summary>The manifest file being appended to (for error reports).</summary>
    public string FilePath => Path.Combine(_dir, $"MANIFEST-{_fileNumber:D6}");

    /// <summary>Opens (or creates) the manifest in <paramref name="dir"/> and writes a fresh compacted manifest file.</summary>
    public static Manifest Open(IFileSystem fs, string dir)
    {
        var m = new Manifest(fs, dir);
        var current = Path.Combine(dir, "CURRENT");
        if (fs.Exists(current))
        {
            var name = ReadAll(fs, current);
            var text = Encoding.UTF8.GetString(name).Trim();
            if (!text.StartsWith("MANIFEST-", StringComparison.Ordinal))
            {
                throw new StorageCorruptionException(current, "does not name a manifest file");
            }

            var path = Path.Combine(dir, text);
            if (!fs.Exists(path))
            {
                throw new StorageCorruptionException(current, $"names missing manifest '{text}'");
            }

            foreach (var edit in ReadEdits(fs, path))
            {
                m.ApplyInMemory(edit);
            }

            m._fileNumber = long.Parse(text["MANIFEST-".Length..], System.Globalization.CultureInfo.InvariantCulture);
        }

        m.Rewrite();
        return m;
    }

    /// <summary>Reads every edit of a manifest file (also used for checkpoints).</summary>
    public static List<ManifestEdit> ReadEdits(IFileSystem fs, string path)
    {
        var data = ReadAll(fs, path);
        var edits = new List<ManifestEdit>();
        var pos = 0;
        while (pos < data.Length)
        {
            if (pos + 12 > data.Length)
            {
                // A torn header at the tail. The first record is the full snapshot, fsynced before
                // CURRENT names this file, so it can never be torn: there it is corruption.
                if (pos == 0)
                {
                    throw new StorageCorruptionException(path, "the snapshot record is incomplete");
                }

                break;
            }

            var magic = BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(pos));
            var len = (int)BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(pos + 4));
            var crc = BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(pos + 8));
            if (magic != RecordMagic)
            {
                throw new StorageCorruptionException(path, $"bad record magic at offset {pos}");
            }

            if (len < 0 || pos + 12 + len > data.Length)
            {
                if (pos == 0)
                {
                    throw new StorageCorruptionException(path, $"the snapshot record claims {len} bytes but the file holds {data.Length - 12}");
                }

                break; // torn record at the tail
            }

            var payload = data.AsSpan(pos + 12, len).ToArray();
            if (Crc32C.Compute(payload) != crc)
            {
                throw new StorageCorruptionException(path, $"checksum mismatch in record at offset {pos}");
            }

            try
            {
                edits.Add(ManifestEdit.Decode(payload));
            }
            catch (Exception e) when (e is FormatException or ArgumentOutOfRangeException or IndexOutOfRangeException or OverflowException)
            {
                throw new StorageCorruptionException(path, $"malformed record at offset {pos}: {e.Message}");
            }

            pos += 12 + len;
        }

        return edits;
    }

    /// <summary>Writes a stand-alone manifest file holding <paramref name="snapshot"/> (fsynced).</summary>
    public static void WriteSnapshotFile(IFileSystem fs, string path, ManifestEdit snapshot)
    {
        using var f = fs.Create(path);
        f.Append(Frame(snapshot.Encode()));
        f.Sync();
    }

    /// <summary>Makes <paramref name="edit"/> durable (fsync) and applies it to the in-memory state.</summary>
    public void Append(ManifestEdit edit)
    {
        edit.NextFileNumber ??= NextFileNumber;
        _file!.Append(Frame(edit.Encode()));
        _file.Sync();
        ApplyInMemory(edit);
        if (_file.Length > RewriteThreshold)
        {
            Rewrite();
        }
    }

    /// <summary>A full-state edit (used for rewrites and checkpoints).</summary>
    public ManifestEdit Snapshot()
    {
        var e = new ManifestEdit { DurableIndex = DurableIndex, NextFileNumber = NextFileNumber };
        e.Added.AddRange(Tables.Values.OrderBy(t => t.Id));
        return e;
    }

    /// <summary>Replaces the whole state (ingest) durably.</summary>
    public void Reset(IEnumerable<ManifestTable> tables, long durableIndex)
    {
        Tables.Clear();
        foreach (var t in tables)
        {
            Tables[t.Id] = t;
        }

        DurableIndex = durableIndex;
        Rewrite();
    }

    public void Dispose() => _file?.Dispose();

    private void ApplyInMemory(ManifestEdit edit)
    {
        foreach (var id in edit.Removed)
        {
            Tables.Remove(id);
        }

        foreach (var t in edit.Added)
        {
            Tables[t.Id] = t;
        }

        foreach (var (id, name) in edit.MadeRemote)
        {
            if (Tables.TryGetValue(id, out var t))
            {
                Tables[id] = t with { ObjectName = name };
            }
        }

        if (edit.DurableIndex is { } d)
        {
            DurableIndex = Math.Max(DurableIndex, d);
        }

        if (edit.NextFileNumber is { } n)
        {
            NextFileNumber = Math.Max(NextFileNumber, n);
        }
    }

    private void Rewrite()
    {
        var old = _fileNumber;
        _fileNumber = Math.Max(_fileNumber + 1, NextFileNumber++);
        var name = $"MANIFEST-{_fileNumber:D6}";
        var path = Path.Combine(_dir, name);
        var file = _fs.Create(path);
        file.Append(Frame(Snapshot().Encode()));
        file.Sync();
        _fs.SyncDirectory(_dir);

        var tmp = Path.Combine(_dir, "CURRENT.tmp");
        using (var c = _fs.Create(tmp))
        {
            c.Append(Encoding.UTF8.GetBytes(name + "\n"));
            c.Sync();
        }

        _fs.Rename(tmp, Path.Combine(_dir, "CURRENT"));
        _fs.SyncDirectory(_dir);
        _file?.Dispose();
        _file = file;
        if (old > 0)
        {
            _fs.Delete(Path.Combine(_dir, $"MANIFEST-{old:D6}"));
        }
    }

    private static byte[] Frame(byte[] payload)
    {
        var r = new byte[12 + payload.Length];
        BinaryPrimitives.WriteUInt32LittleEndian(r, RecordMagic);
        BinaryPrimitives.WriteUInt32LittleEndian(r.AsSpan(4), (uint)payload.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(r.AsSpan(8), Crc32C.Compute(payload));
        payload.CopyTo(r, 12);
        return r;
    }

    private static byte[] ReadAll(IFileSystem fs, string path)
    {
        using var f = fs.OpenRead(path);
        var data = new byte[f.Length];
        f.ReadExactly(0, data);
        return data;
    }
}
