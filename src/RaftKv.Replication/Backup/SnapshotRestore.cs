using System.Globalization;
using Microsoft.Extensions.Logging;
using RaftKv.Replication.State;
using RaftKv.Storage;
using RaftKv.Storage.IO;

namespace RaftKv.Replication.Backup;

/// <summary>
/// Builds one member's data directory of a new cluster from a backup snapshot (<c>raftkv restore</c>):
/// the LSM holds the snapshot's state, <c>snapshots/</c> holds it as the Raft snapshot at the source's
/// index with term 1 (the next index when the source's cluster uid record is dropped: a new cluster proposes its own),
/// the Raft log is empty, and <c>cluster-id</c> holds the new cluster's id.
/// Membership is not written: the node bootstraps it from <c>PEERS</c> at its first start.
/// </summary>
/// <remarks>
/// <para>Why term 1: the new cluster's members start at term 0 and elect a leader at term 1; a snapshot
/// term above that would make the restored snapshot look newer than every entry the new cluster writes.
/// Why the source index is kept: Raft indexes stay monotonic for clients that saw raftkv.v1 versions.</para>
/// <para>Crash safety: the snapshot is verified (whole-file SHA-256) before anything is written; a restore
/// cut short leaves a directory that is not empty, which the next restore refuses (delete it first).</para>
/// </remarks>
public static class SnapshotRestore
{
    /// <summary>Restores <paramref name="snapshotPath"/> into the empty or absent <paramref name="dataDir"/>.</summary>
    /// <exception cref="SnapshotFileException">The file is truncated, corrupt or not a snapshot.</exception>
    /// <exception cref="RestoreTargetException">The target is not empty, or archived tables cannot be fetched.</exception>
    public static Task<RestoreResult> RestoreAsync(string snapshotPath, string dataDir, ulong clusterId, IRemoteTableStore? remote, ILoggerFactory loggers, CancellationToken cancellationToken = default)
        => RestoreAsync(snapshotPath, dataDir, clusterId, remote, loggers, null, cancellationToken);

    /// <summary><see cref="RestoreAsync(string, string, ulong, IRemoteTableStore?, ILoggerFactory, CancellationToken)"/>, reporting
    /// its phases (verify, unpack, ingest) to <paramref name="progress"/> (synchronously, on the restoring thread).</summary>
    public static async Task<RestoreResult> RestoreAsync(string snapshotPath, string dataDir, ulong clusterId, IRemoteTableStore? remote, ILoggerFactory loggers, IProgress<RestoreProgress>? progress, CancellationToken cancellationToken = default)
    {
        var fs = PhysicalFileSystem.Instance;
        dataDir = Path.GetFullPath(dataDir);
        if (Directory.Exists(dataDir) && Directory.EnumerateFileSystemEntries(dataDir).Any())
        {
            throw new RestoreTargetException($"data directory {dataDir} is not empty; restore builds a new member's directory");
        }

        var header = SnapshotFileReader.Verify(snapshotPath, Phase(progress, "verify"));
        if (header.ArchivedReferenced && remote is null)
        {
            throw new RestoreTargetException("the snapshot references archived tables in the bucket; configure the object store (S3_ENDPOINT, S3_BUCKET, ...) to restore it");
        }

        fs.CreateDirectory(dataDir);
        var snapshotsDir = Path.Combine(dataDir, "snapshots");
        fs.CreateDirectory(snapshotsDir);
        var incoming = Path.Combine(snapshotsDir, "incoming-restore");
        SnapshotFileReader.Unpack(snapshotPath, fs, incoming, Phase(progress, "unpack"));
        return await IngestAsync(dataDir, incoming, header, clusterId, remote, loggers, progress, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Restores a checkpoint that <paramref name="fill"/> writes into the directory it is given (whole tables
    /// only: a continuous backup downloaded from S3) into the empty or absent <paramref name="dataDir"/>.
    /// If <paramref name="fill"/> fails, the data directory is removed again (when this call created it) and
    /// the exception propagates: a refused backup leaves nothing behind.
    /// </summary>
    /// <exception cref="RestoreTargetException">The target is not empty.</exception>
    public static Task<RestoreResult> RestoreCheckpointAsync(Func<string, CancellationToken, Task> fill, SnapshotHeader header, string dataDir, ulong clusterId, ILoggerFactory loggers, CancellationToken cancellationToken = default)
        => RestoreCheckpointAsync(fill, header, dataDir, clusterId, loggers, null, cancellationToken);

    /// <summary><see cref="RestoreCheckpointAsync(Func{string, CancellationToken, Task}, SnapshotHeader, string, ulong, ILoggerFactory, CancellationToken)"/>,
    /// reporting its ingest phase to <paramref name="progress"/> (the fill reports its own, e.g. download).</summary>
    public static async Task<RestoreResult> RestoreCheckpointAsync(Func<string, CancellationToken, Task> fill, SnapshotHeader header, string dataDir, ulong clusterId, ILoggerFactory loggers, IProgress<RestoreProgress>? progress, CancellationToken cancellationToken = default)
    {
        var fs = PhysicalFileSystem.Instance;
        dataDir = Path.GetFullPath(dataDir);
        var existed = Directory.Exists(dataDir);
        if (existed && Directory.EnumerateFileSystemEntries(dataDir).Any())
        {
            throw new RestoreTargetException($"data directory {dataDir} is not empty; restore builds a new member's directory");
        }

        fs.CreateDirectory(dataDir);
        var snapshotsDir = Path.Combine(dataDir, "snapshots");
        fs.CreateDirectory(snapshotsDir);
        var incoming = Path.Combine(snapshotsDir, "incoming-restore");
        try
        {
            await fill(incoming, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            if (existed)
            {
                fs.DeleteDirectory(snapshotsDir);
            }
            else
            {
                fs.DeleteDirectory(dataDir);
            }

            throw;
        }

        fs.SyncDirectory(incoming);
        return await IngestAsync(dataDir, incoming, header, clusterId, null, loggers, progress, cancellationToken).ConfigureAwait(false);
    }

    private static IProgress<(long Done, long Total)>? Phase(IProgress<RestoreProgress>? progress, string phase)
        => progress is null ? null : new PhaseProgress(p => progress.Report(new RestoreProgress(phase, p.Done, p.Total, "bytes")));

    private static async Task<RestoreResult> IngestAsync(string dataDir, string incoming, SnapshotHeader header, ulong clusterId, IRemoteTableStore? remote, ILoggerFactory loggers, IProgress<RestoreProgress>? progress, CancellationToken cancellationToken)
    {
        var files = Directory.Exists(incoming) ? Directory.GetFiles(incoming).Length : 0;
        progress?.Report(new RestoreProgress("ingest", 0, files, "files"));
        var fs = PhysicalFileSystem.Instance;
        var snapshotsDir = Path.Combine(dataDir, "snapshots");
        var store = await LsmStore.OpenAsync(
            new LsmOptions { Directory = Path.Combine(dataDir, "lsm"), PartitionBoundaries = TablePartitions.Boundaries, RemoteStore = remote, FileSystem = fs, Logger = loggers.CreateLogger<LsmStore>() },
            cancellationToken).ConfigureAwait(false);
        try
        {
            try
            {
                await store.IngestAsync(incoming, cancellationToken).ConfigureAwait(false);
            }
            catch (IOException e) when (e is not StorageCorruptionException)
            {
                throw new RestoreTargetException($"could not fetch the snapshot's archived tables: {e.Message}");
            }

            // A new cluster gets a new cluster uid (KvState.ClusterUid.cs): the source's is dropped here, in one batch
            // at the next index (a store batch needs a new index), and the new cluster's first leader proposes one.
            if (KvState.ClusterUidDeletes(store) is { Count: > 0 } drop)
            {
                store.Apply(store.AppliedIndex + 1, drop);
            }

            var tmp = Path.Combine(snapshotsDir, "tmp-restore");
            var index = await store.CheckpointAsync(tmp, cancellationToken).ConfigureAwait(false);
            fs.RenameDirectory(tmp, Path.Combine(snapshotsDir, string.Create(CultureInfo.InvariantCulture, $"{index:D20}-1")));
            fs.DeleteDirectory(incoming);
            fs.SyncDirectory(snapshotsDir);
            using var state = await KvState.RestoreAsync(store, fs, snapshotsDir, loggers.CreateLogger<KvState>(), TimeProvider.System, cancellationToken).ConfigureAwait(false);
            var result = new RestoreResult(header, index, state.Revision, state.CompactRevision, state.Leases.Count);
            ClusterIdFile.Write(fs, dataDir, clusterId);
            progress?.Report(new RestoreProgress("ingest", files, files, "files"));
            return result;
        }
        finally
        {
            await store.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Reports synchronously, in order (unlike <see cref="Progress{T}"/>).</summary>
    private sealed class PhaseProgress(Action<(long Done, long Total)> report) : IProgress<(long Done, long Total)>
    {
        public void Report((long Done, long Total) value) => report(value);
    }
}
