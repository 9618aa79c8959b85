using System.Globalization;
using RaftKv.Replication.Backup;
using RaftKv.Server.Configuration;
using RaftKv.Server.Hosting;
using RaftKv.Tiering;
using RaftKv.Tiering.Backups;

namespace RaftKv.Server.Backup;

/// <summary>
/// <c>raftkv restore --from-s3 [--backup ID | --cluster-uid UID] [--cluster-token TOKEN] [server flags]</c>: builds this
/// member's data directory of a new cluster from a continuous backup in S3 (the newest, <c>--backup ID</c>, or the newest
/// of cluster <c>--cluster-uid UID</c>), exactly as <see cref="RestoreCommand"/> does from a file (new cluster id, no
/// cluster uid: the new cluster's leader proposes its own; members from <c>PEERS</c>). Several clusters may back up
/// under one prefix: without <c>--backup</c> or <c>--cluster-uid</c>, a catalog holding backups of more than one cluster
/// (legacy backups without a uid count as one more) is refused (<see cref="BackupError.AmbiguousCluster"/>, listing the
/// clusters and their newest backups), never resolved by picking the newest of whichever cluster.
/// <c>raftkv restore --from-s3 --list</c> lists the backups with their cluster uids. The bucket and prefix are BACKUP_BUCKET and
/// BACKUP_PREFIX (defaults: S3_BUCKET, <c>{S3_PREFIX}backups/</c>) on the S3_* endpoint. Every downloaded file is checked
/// against the manifest's size and CRC32C before anything is ingested. Exit codes: 0 done, 1 the backup or
/// the target was refused (a missing or corrupt object, an unreadable manifest, a non-empty directory), 2 usage.
/// Progress goes to stderr (<see cref="RestoreProgressLines"/>: download, ingest).
/// </summary>
public static class RestoreFromS3Command
{
    public const string Usage = "usage: raftkv restore --from-s3 [--list | --backup ID | --cluster-uid UID] [--cluster-token TOKEN] [--data-dir DIR --node-id N --peers 1=host:port,...] [--s3-endpoint URL ...]";

    public static async Task<int> RunAsync(List<string> rest, string token, TextWriter output, TextWriter error)
    {
        var list = rest.Remove("--list");
        if (!RestoreArgs.TryTake(rest, "--backup", out var id))
        {
            await error.WriteLineAsync("raftkv restore: --backup needs a backup id (see --list)").ConfigureAwait(false);
            return 2;
        }

        if (!RestoreArgs.TryTake(rest, "--cluster-uid", out var clusterUid))
        {
            await error.WriteLineAsync("raftkv restore: --cluster-uid needs a cluster uid (see --list)").ConfigureAwait(false);
            return 2;
        }

        if (id is not null && clusterUid is not null)
        {
            await error.WriteLineAsync("raftkv restore: give --backup or --cluster-uid, not both").ConfigureAwait(false);
            return 2;
        }

        if (await RestoreArgs.LoadConfigAsync(rest, error).ConfigureAwait(false) is not { } config)
        {
            return 2;
        }

        if (NodeLifetime.TieringOptionsFor(config) is not { } tiering)
        {
            await error.WriteLineAsync("raftkv restore: --from-s3 needs the object store (S3_ENDPOINT, S3_ACCESS_KEY, S3_SECRET_KEY; BACKUP_BUCKET, BACKUP_PREFIX)").ConfigureAwait(false);
            return 2;
        }

        using var store = new S3ObjectStore(tiering with { Bucket = config.Backup.Bucket });
        var catalog = new BackupCatalog(store, new BackupLayout(config.Backup.Prefix));
        try
        {
            return list ? await ListAsync(catalog, output).ConfigureAwait(false) : await RestoreAsync(catalog, id, clusterUid, token, config, output, error).ConfigureAwait(false);
        }
        catch (BackupException e)
        {
            await error.WriteLineAsync($"raftkv restore: backup refused ({e.Error}): {e.Message}").ConfigureAwait(false);
            return 1;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            await error.WriteLineAsync($"raftkv restore: {e.Message}").ConfigureAwait(false);
            return 1;
        }
    }

    private static async Task<int> ListAsync(BackupCatalog catalog, TextWriter output)
    {
        var listing = await catalog.ListAsync().ConfigureAwait(false);
        await output.WriteLineAsync("ID\tCREATED\tREVISION\tRAFT_INDEX\tSIZE_BYTES\tFILES\tSOURCE_NODE\tCLUSTER_ID\tCLUSTER_UID").ConfigureAwait(false);
        foreach (var m in listing.Backups)
        {
            await output.WriteLineAsync(string.Create(
                CultureInfo.InvariantCulture,
                $"{m.Id}\t{m.Created.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ}\t{m.Revision}\t{m.RaftIndex}\t{m.DataBytes}\t{m.Files.Count}\t{m.SourceNodeId}\t{m.ClusterId:x16}\t{m.ClusterUid ?? "legacy"}")).ConfigureAwait(false);
        }

        foreach (var (key, e) in listing.Unreadable)
        {
            await output.WriteLineAsync($"UNREADABLE\t{key}\t{e.Error}: {e.Message}").ConfigureAwait(false);
        }

        return 0;
    }

    private static async Task<int> RestoreAsync(BackupCatalog catalog, string? id, string? clusterUid, string token, ServerConfig config, TextWriter output, TextWriter error)
    {
        var m = id is not null ? await catalog.ReadAsync(id).ConfigureAwait(false) : await NewestAsync(catalog, clusterUid, error).ConfigureAwait(false);
        var members = config.Peers.Count > 0 ? config.Peers.Keys : [config.NodeId];
        var clusterId = ClusterIdFile.Derive(members, token, m.Checksum ?? []);
        var header = new SnapshotHeader(m.RaftIndex, m.RaftTerm, m.CreatedUnixMs, m.SourceNodeId, m.ClusterId, false, m.Files.Count, m.DataBytes);
        using var loggers = LoggerFactory.Create(b => b.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning));
        var progress = new RestoreProgressLines(error);
        var r = await SnapshotRestore.RestoreCheckpointAsync((dir, ct) => catalog.DownloadAsync(m, dir, progress, ct), header, config.DataDir, clusterId, loggers, progress).ConfigureAwait(false);
        if (r.Revision != m.Revision)
        {
            throw new BackupException(BackupError.ManifestCorrupt, $"backup {m.Id} restored revision {r.Revision}, but its manifest says {m.Revision}; do not use {Path.GetFullPath(config.DataDir)}");
        }

        await output.WriteLineAsync(
            $"restored member {config.NodeId} into {Path.GetFullPath(config.DataDir)} from backup {m.Id}: cluster id {clusterId:x16}, members {string.Join(',', members.Order())}, " +
            $"raft index {r.RaftIndex}, revision {r.Revision}, compact revision {r.CompactRevision}, {r.Leases} leases " +
            $"(backup of member {m.SourceNodeId} of cluster {m.ClusterId:x16}, cluster uid {m.ClusterUid ?? "none (legacy backup)"}, {m.Files.Count} files, {m.DataBytes} bytes; " +
            "the restored cluster gets a new cluster uid from its first leader)").ConfigureAwait(false);
        return 0;
    }

    /// <summary>The newest backup of the one cluster the catalog holds, or of <paramref name="clusterUid"/>; refused
    /// (<see cref="BackupError.AmbiguousCluster"/>) when the catalog holds several clusters' backups and none is named.</summary>
    private static async Task<BackupManifest> NewestAsync(BackupCatalog catalog, string? clusterUid, TextWriter error)
    {
        var listing = await catalog.ListAsync().ConfigureAwait(false);
        foreach (var (key, e) in listing.Unreadable)
        {
            await error.WriteLineAsync($"raftkv restore: warning: manifest {key} is unreadable ({e.Error}) and was not considered").ConfigureAwait(false);
        }

        return BackupClusters.Of(listing).PickNewest(clusterUid?.ToLowerInvariant(), catalog.Layout.Prefix);
    }
}
