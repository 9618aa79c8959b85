namespace RaftKv.Replication.Backup;

/// <summary>What <see cref="SnapshotRestore"/> built.</summary>
/// <param name="Header">The snapshot's header.</param>
/// <param name="RaftIndex">The restored state's Raft index (the new log starts after it).</param>
/// <param name="Revision">The restored MVCC revision.</param>
/// <param name="CompactRevision">The restored compact revision.</param>
/// <param name="Leases">Leases restored.</param>
public sealed record RestoreResult(SnapshotHeader Header, long RaftIndex, long Revision, long CompactRevision, int Leases);
