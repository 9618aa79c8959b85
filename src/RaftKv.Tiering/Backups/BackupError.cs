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

    /// <summary>The cluster has no replicated cluster uid yet (a new leader has not proposed it, or a member is on an
    /// older release): backups wait for it, since a backup must say which cluster it is of.</summary>
    ClusterUidUnknown,

    /// <summary>The catalog holds backups of more than one cluster and the restore did not say which (<c>--backup</c>
    /// or <c>--cluster-uid</c>).</summary>
    AmbiguousCluster,
}
