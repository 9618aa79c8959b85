using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using RaftKv.Storage.IO;

namespace RaftKv.Server.Hosting;

/// <summary>
/// <c>{DATA_DIR}/archive-id</c>: a random id made once per data directory, the last part of the prefix this
/// node archives under (<c>nodes/{NODE_ID}/{archive-id}/sst/</c>, <see cref="NodeLifetime.ArchivePrefix"/>).
/// Format: 16 lowercase hex digits and a newline.
/// </summary>
/// <remarks>
/// Why: the archiver writes objects named by table id, and its orphan pass deletes every object under its
/// prefix that its own manifest does not reference. With <c>nodes/{NODE_ID}/</c> alone, two clusters sharing
/// a bucket (the default bucket name, or a cluster restored from a backup next to the one still running) had
/// members with the same prefix: one overwrote the other's tables and deleted them as orphans. Table ids and
/// cluster ids cannot tell them apart (both restart from the same values); a random id per data directory can.
/// A member rebuilt with an empty data directory gets a new id, so objects of its previous incarnation are
/// left in place (never deleted by the new one; a snapshot saved with <c>--reference-archived</c> may still
/// name them).
/// </remarks>
public static class ArchiveIdFile
{
    public const string FileName = "archive-id";

    /// <summary>The id stored in <paramref name="dataDir"/>, made (durably: temp file, fsync, rename, fsync
    /// directory) if there is none.</summary>
    /// <exception cref="FormatException">The file exists but does not hold an id.</exception>
    public static string LoadOrCreate(string dataDir)
    {
        var path = Path.Combine(dataDir, FileName);
        if (File.Exists(path))
        {
            var text = File.ReadAllText(path).Trim();
            return text.Length == 16 && ulong.TryParse(text, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out _)
                ? text.ToLowerInvariant()
                : throw new FormatException($"{path} does not hold an archive id (16 hex digits); deleting it makes a new one: archived tables stay readable, but objects under the old id are no longer cleaned up");
        }

        Directory.CreateDirectory(dataDir);
        var id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
        var fs = new PhysicalFileSystem();
        var tmp = path + ".tmp";
        using (var f = fs.Create(tmp))
        {
            f.Append(Encoding.ASCII.GetBytes(id + "\n"));
            f.Sync();
        }

        fs.Rename(tmp, path);
        fs.SyncDirectory(dataDir);
        return id;
    }
}
