using RaftKv.Replication.Backup;

namespace RaftKv.Replication.Api;

/// <summary>A replica's backup snapshots (etcd Maintenance.Snapshot, raftkv.v1 Admin.Snapshot). Implemented by <c>KvNode</c>.</summary>
public interface ISnapshotSource
{
    /// <summary>
    /// Takes a consistent point-in-time snapshot of this replica, on any member: first a read barrier
    /// (every write acknowledged before the call is applied here), then an LSM checkpoint of everything
    /// applied. The caller streams it (<see cref="SnapshotExport.WriteToAsync"/>) and disposes it.
    /// <paramref name="referenceArchived"/>: archived tables are referenced in the bucket, not included.
    /// Throws <see cref="UnavailableException"/> without quorum.
    /// </summary>
    Task<SnapshotExport> ExportSnapshotAsync(bool referenceArchived, ulong clusterId, CancellationToken cancellationToken = default);
}
