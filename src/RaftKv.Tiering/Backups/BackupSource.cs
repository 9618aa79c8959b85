namespace RaftKv.Tiering.Backups;

/// <summary>
/// A checkpoint to back up (what <see cref="IBackupCheckpointSource.TakeCheckpointAsync"/> returns): an LSM
/// checkpoint directory (<c>CHECKPOINT</c>, whole local tables, tails of archived ones) and what the
/// manifest records of it. Dispose deletes the directory (through <paramref name="Release"/>).
/// </summary>
public sealed record BackupSource(
    string Directory,
    long RaftIndex,
    long RaftTerm,
    long Revision,
    long CompactRevision,
    long SourceNodeId,
    ulong ClusterId,
    IReadOnlyList<BackupMember> Members,
    DateTimeOffset Created,
    Action Release) : IDisposable
{
    /// <summary>The replicated cluster uid (32 lowercase hex digits) the manifest records; a backup is not written without one.</summary>
    public string? ClusterUid { get; init; }

    public void Dispose() => Release();
}
