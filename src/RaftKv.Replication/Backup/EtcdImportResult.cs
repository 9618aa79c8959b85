namespace RaftKv.Replication.Backup;

/// <summary>What <see cref="EtcdImport"/> built.</summary>
/// <param name="Restore">The restored member (Raft index, revision, compact revision, leases).</param>
/// <param name="Changes">Records of etcd's <c>key</c> bucket imported (history and compacted base).</param>
/// <param name="LiveKeys">Keys live at the current revision.</param>
/// <param name="Auth">The imported auth state (users, roles, enabled flag, revision; no token key yet when enabled:
/// the first leader proposes it).</param>
public sealed record EtcdImportResult(RestoreResult Restore, long Changes, long LiveKeys, Api.AuthState Auth);
