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

    /// <summary>
    /// An etcd snapshot whose auth buckets hold something RaftKv cannot import as it is (Backup/EtcdAuthImport.cs):
    /// a password hash RaftKv refuses (not bcrypt, or a bcrypt cost outside 4-16), a name that is not UTF-8, a role
    /// granted to a user but missing, or a state etcd's own rules refuse (auth enabled without a root user holding
    /// the root role). The file is intact; nothing is written.
    /// </summary>
    UnsupportedAuth,
}
