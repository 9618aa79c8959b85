namespace RaftKv.Replication.Backup;

/// <summary>Why a backup snapshot file was refused.</summary>
public enum SnapshotFileError
{
    /// <summary>Not a RaftKv snapshot (bad magic).</summary>
    NotASnapshot,

    /// <summary>A format version this release cannot read.</summary>
    UnsupportedVersion,

    /// <summary>Shorter than its structure says: cut off.</summary>
    Truncated,

    /// <summary>The checksum or the structure does not match: damaged.</summary>
    Corrupt,
}
