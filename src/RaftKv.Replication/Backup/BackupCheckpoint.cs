using RaftKv.Storage.IO;

namespace RaftKv.Replication.Backup;

/// <summary>
/// A checkpoint of this replica taken for a continuous backup (<c>KvNode.TakeBackupCheckpointAsync</c>):
/// an LSM checkpoint directory under <c>snapshots/tmp-backup-*</c> (hard links; archived tables as tails)
/// and the Raft index, term and MVCC revisions it holds. Dispose deletes the directory (or the next start does).
/// </summary>
public sealed class BackupCheckpoint : IDisposable
{
    private readonly IFileSystem _fs;
    private readonly IDisposable? _pin; // the checkpoint's tables and archived objects, kept until disposed (IKvStore.CheckpointPinnedAsync)

    internal BackupCheckpoint(IFileSystem fs, string directory, long raftIndex, long raftTerm, long revision, long compactRevision, DateTimeOffset created, IDisposable? pin = null)
    {
        _pin = pin;
        _fs = fs;
        Directory = directory;
        RaftIndex = raftIndex;
        RaftTerm = raftTerm;
        Revision = revision;
        CompactRevision = compactRevision;
        Created = created;
    }

    public string Directory { get; }

    public long RaftIndex { get; }

    public long RaftTerm { get; }

    public long Revision { get; }

    public long CompactRevision { get; }

    public DateTimeOffset Created { get; }

    public void Dispose()
    {
        _pin?.Dispose();
        try
        {
            _fs.DeleteDirectory(Directory);
        }
        catch (IOException)
        {
            // A tmp-* checkpoint left behind is deleted at the next start.
        }
    }
}
