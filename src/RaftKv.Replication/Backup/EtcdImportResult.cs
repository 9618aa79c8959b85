namespace RaftKv.Replication.Backup;

/// <summary>What <see cref="EtcdImport"/> built.</summary>
/// <param name="Restore">The restored member (Raft index, revision, compact revision, leases).</param>
/// <param name="Changes">Records of etcd's <c>key</c> bucket imported (history and compacted base).</param>
/// <param name="LiveKeys">Keys live at the current revision.</param>
public sealed record EtcdImportResult(RestoreResult Restore, long Changes, long LiveKeys);
