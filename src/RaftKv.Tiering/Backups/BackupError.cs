namespace RaftKv.Tiering.Backups;

/// <summary>Why a backup could not be listed, read, taken or restored.</summary>
public enum BackupError
{
    /// <summary>No backup has the id asked for.</summary>
    NotFound,

    /// <summary>The bucket and prefix hold no backup.</summary>
    NoBackups,

    /// <summary>A manifest that does not parse or whose checksum does not match.</summary>
    ManifestCorrupt,

    /// <summary>A manifest format version this release cannot read.</summary>
    UnsupportedVersion,

    /// <summary>An object a manifest references is missing.</summary>
    TableMissing,

    /// <summary>An object a manifest references has another size or CRC32C than the manifest says.</summary>
    TableCorrupt,

    /// <summary>A backup was abandoned before its manifest was written (leadership lost, objects vanished).</summary>
    Incomplete,
}
