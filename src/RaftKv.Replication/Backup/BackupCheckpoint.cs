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

    internal BackupCheckpoint(IFileSystem fs, string directory, long raftIndex, long raftTerm, long revision, long compactRevision, DateTimeOffset created)
    {
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
