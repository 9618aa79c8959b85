namespace RaftKv.Tiering.Backups;

/// <summary>What the backup scheduler needs of the node (implemented by the server over <c>KvNode</c>, so this
/// assembly knows nothing of Raft).</summary>
public interface IBackupCheckpointSource
{
    /// <summary>Whether this node takes backups now (the leader). Checked before a backup starts and again
    /// before its manifest is written.</summary>
    bool IsBackupNode { get; }

    /// <summary>The cluster's replicated uid (32 lowercase hex digits), or null while the cluster has none yet: the
    /// schedule considers only this cluster's backups, and takes none until the uid is known.</summary>
    string? ClusterUid { get; }

    /// <summary>A consistent point-in-time checkpoint of everything committed before the call (read barrier,
    /// then an LSM checkpoint) with its Raft index and MVCC revision.</summary>
    Task<BackupSource> TakeCheckpointAsync(CancellationToken cancellationToken);
}
