using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using RaftKv.Storage.IO;

namespace RaftKv.Replication.Backup;

/// <summary>
/// <c>{DATA_DIR}/cluster-id</c>: the etcd cluster id of a cluster built by <c>raftkv restore</c> (a new
/// cluster: a new id, as <c>etcdutl snapshot restore</c> gives). Format: 16 lowercase hex digits and a
/// newline. Absent on a cluster bootstrapped normally (its id is derived from <c>PEERS</c>).
/// </summary>
public static class ClusterIdFile
{
    public const string FileName = "cluster-id";

    /// <summary>The id restored members of one cluster share: SHA-256 over the member ids (sorted, 8 bytes
    /// big-endian each), the cluster token (UTF-8) and the snapshot's checksum; the first 8 bytes, big-endian.
    /// Every member restored from the same file with the same members and token computes the same id, and
    /// it differs from the source cluster's.</summary>
    public static ulong Derive(IEnumerable<long> memberIds, string token, ReadOnlySpan<byte> snapshotChecksum)
    {
        var ids = memberIds.Order().ToArray();
        var tokenBytes = Encoding.UTF8.GetBytes(token);
        var data = new byte[(8 * ids.Length) + tokenBytes.Length + snapshotChecksum.Length];
        for (var i = 0; i < ids.Length; i++)
        {
            BinaryPrimitives.WriteInt64BigEndian(data.AsSpan(8 * i), ids[i]);
        }

        tokenBytes.CopyTo(data, 8 * ids.Length);
        snapshotChecksum.CopyTo(data.AsSpan((8 * ids.Length) + tokenBytes.Length));
        var id = BinaryPrimitives.ReadUInt64BigEndian(SHA256.HashData(data));
        return id == 0 ? 1 : id;
    }

    /// <summary>The id stored in <paramref name="dataDir"/>, or null when there is none.</summary>
    /// <exception cref="FormatException">The file exists but does not hold an id.</exception>
    public static ulong? TryRead(string dataDir)
    {
        var path = Path.Combine(dataDir, FileName);
        if (!File.Exists(path))
        {
            return null;
        }

        var text = File.ReadAllText(path).Trim();
        return ulong.TryParse(text, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var id) && id != 0
            ? id
            : throw new FormatException($"{path} does not hold a cluster id (16 hex digits)");
    }

    /// <summary>Writes the id durably (temp file, fsync, rename, fsync directory).</summary>
    public static void Write(IFileSystem fs, string dataDir, ulong id)
    {
        var tmp = Path.Combine(dataDir, FileName + ".tmp");
        using (var f = fs.Create(tmp))
        {
            f.Append(Encoding.ASCII.GetBytes(id.ToString("x16", CultureInfo.InvariantCulture) + "\n"));
            f.Sync();
        }

        fs.Rename(tmp, Path.Combine(dataDir, FileName));
        fs.SyncDirectory(dataDir);
    }
}
