using System.Globalization;

namespace RaftKv.Tiering.Backups;

/// <summary>
/// Where backups live under the backup prefix (BACKUP_PREFIX, default <c>backups/</c>) of the backup bucket:
/// <code>
/// {prefix}manifests/{id}.manifest     one per complete backup, written last (a single PUT: atomic)
/// {prefix}pending/{id}.manifest       a backup in progress: the files it will reference (GC keeps them)
/// {prefix}checkpoints/{id}/CHECKPOINT the backup's LSM checkpoint manifest
/// {prefix}tables/{sha256}.sst         a local table, named by the SHA-256 of its content (shared by backups)
/// {prefix}tables/a{sha256}.sst        an archived table copied server-side, named by the SHA-256 of
///                                     "{bucket}/{object}/{size}/{crc32c}" of its archive object
/// </code>
/// Tables are immutable, so one name is one content: a backup uploads only names not yet stored.
/// Nothing here is under the archive tier's <c>nodes/</c> prefix, and backup GC deletes only under this prefix.
/// </summary>
public sealed record BackupLayout(string Prefix)
{
    public string ManifestsPrefix => Prefix + "manifests/";

    public string PendingPrefix => Prefix + "pending/";

    public string TablesPrefix => Prefix + "tables/";

    public string CheckpointsPrefix => Prefix + "checkpoints/";

    public string ManifestKey(string id) => $"{ManifestsPrefix}{id}.manifest";

    public string PendingKey(string id) => $"{PendingPrefix}{id}.manifest";

    public string CheckpointKey(string id, string name) => $"{CheckpointsPrefix}{id}/{name}";

    public string TableKey(string contentName) => $"{TablesPrefix}{contentName}.sst";

    /// <summary>The backup id in a manifest or pending key, or null.</summary>
    public string? IdOf(string key, string folderPrefix) =>
        key.StartsWith(folderPrefix, StringComparison.Ordinal) && key.EndsWith(".manifest", StringComparison.Ordinal)
            ? key[folderPrefix.Length..^".manifest".Length]
            : null;

    /// <summary>A new unique id: creation time to the millisecond (sortable), the node, 8 random hex digits.</summary>
    public static string NewId(DateTimeOffset created, long nodeId) =>
        string.Create(CultureInfo.InvariantCulture, $"{created.UtcDateTime:yyyyMMdd'T'HHmmss'.'fff'Z'}-n{nodeId}-{Guid.NewGuid().ToString("N")[..8]}");
}
