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
    public void Dispose() => Release();
}
