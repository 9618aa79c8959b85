using RaftKv.Replication.Api;
using RaftKv.Replication.Backup;

namespace RaftKv.Replication;

/// <remarks>Backup snapshots (docs/architecture.md, "Backup snapshots"): a checkpoint of this replica's
/// store under <c>snapshots/tmp-export-*</c> (deleted when the export is disposed, or at the next start).</remarks>
public sealed partial class KvNode : ISnapshotSource
{
    public async Task<SnapshotExport> ExportSnapshotAsync(bool referenceArchived, ulong clusterId, CancellationToken cancellationToken = default)
    {
        await BarrierAsync(ReadConsistency.Linearizable, cancellationToken).ConfigureAwait(false);
        var directory = Path.Combine(Path.GetFullPath(_options.DataDir), "snapshots", "tmp-export-" + Guid.NewGuid().ToString("N"));
        var fs = _options.FileSystem;
        IDisposable? pin = null;
        try
        {
            // Pinned: a compaction during the stream must not delete an archived table's object it reads.
            (var index, pin) = await _store.CheckpointPinnedAsync(directory, cancellationToken).ConfigureAwait(false);
            return new SnapshotExport(fs, directory, _options.RemoteStore, referenceArchived, _state.TermAt(index), NodeId, clusterId, _options.TimeProvider.GetUtcNow().ToUnixTimeMilliseconds(), pin);
        }
        catch
        {
            pin?.Dispose();
            try
            {
                fs.DeleteDirectory(directory);
            }
            catch (IOException)
            {
                // Deleted at the next start (tmp-*).
            }

            throw;
        }
    }

    /// <summary>
    /// A checkpoint for a continuous backup to S3: a read barrier (every write acknowledged before the call is
    /// in it), then an LSM checkpoint of everything flushed, with the MVCC revision at its Raft index (from
    /// <see cref="State.RevisionHistory"/>; if the apply loop has run more batches past that index than it
    /// keeps, the checkpoint is taken again).
    /// </summary>
    public async Task<BackupCheckpoint> TakeBackupCheckpointAsync(CancellationToken cancellationToken = default)
    {
        await BarrierAsync(ReadConsistency.Linearizable, cancellationToken).ConfigureAwait(false);
        var fs = _options.FileSystem;
        for (var attempt = 0; ; attempt++)
        {
            var directory = Path.Combine(Path.GetFullPath(_options.DataDir), "snapshots", "tmp-backup-" + Guid.NewGuid().ToString("N"));
            var keep = false;
            try
            {
                var created = _options.TimeProvider.GetUtcNow();
                var (index, pin) = await _store.CheckpointPinnedAsync(directory, cancellationToken).ConfigureAwait(false); // objects kept while copied
                if (_state.Revisions.At(index) is { } r)
                {
                    keep = true;
                    return new BackupCheckpoint(fs, directory, index, _state.TermAt(index), r.Revision, r.CompactRevision, created, pin);
                }

                pin.Dispose();

                if (attempt >= 3)
                {
                    throw new InvalidOperationException($"the revision at checkpoint index {index} is no longer known (more than {State.RevisionHistory.Capacity} batches applied while the checkpoint was taken)");
                }
            }
            finally
            {
                if (!keep)
                {
                    try
                    {
                        fs.DeleteDirectory(directory);
                    }
                    catch (IOException)
                    {
                        // Deleted at the next start (tmp-*).
                    }
                }
            }
        }
    }
}
