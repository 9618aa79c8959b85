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
        try
        {
            var index = await _store.CheckpointAsync(directory, cancellationToken).ConfigureAwait(false);
            return new SnapshotExport(fs, directory, _options.RemoteStore, referenceArchived, _state.TermAt(index), NodeId, clusterId, _options.TimeProvider.GetUtcNow().ToUnixTimeMilliseconds());
        }
        catch
        {
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
}
