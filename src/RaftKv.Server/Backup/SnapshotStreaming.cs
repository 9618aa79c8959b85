using RaftKv.Replication.Api;
using RaftKv.Replication.Backup;

namespace RaftKv.Server.Backup;

/// <summary>Streams this member's backup snapshot as chunks (etcd Maintenance.Snapshot and raftkv.v1
/// Admin.Snapshot share it). <c>emit(chunk, sentSoFar, export)</c> sends one message.</summary>
public static class SnapshotStreaming
{
    public static async Task StreamAsync(ISnapshotSource source, bool referenceArchived, ulong clusterId, Func<ReadOnlyMemory<byte>, long, SnapshotExport, Task> emit, CancellationToken cancellationToken)
    {
        using var export = await source.ExportSnapshotAsync(referenceArchived, clusterId, cancellationToken).ConfigureAwait(false);
        var stream = new ChunkingStream((chunk, sent) => emit(chunk, sent, export));
        await using (stream.ConfigureAwait(false))
        {
            await export.WriteToAsync(stream, null, cancellationToken).ConfigureAwait(false);
            await stream.CompleteAsync().ConfigureAwait(false);
        }
    }
}
