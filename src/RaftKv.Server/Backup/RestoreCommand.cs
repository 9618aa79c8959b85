using RaftKv.Replication.Backup;
using RaftKv.Server.Hosting;
using RaftKv.Tiering;

namespace RaftKv.Server.Backup;

/// <summary>
/// <c>raftkv restore SNAPSHOT [--cluster-token TOKEN] [server flags]</c>: builds this member's data
/// directory of a new cluster from a backup snapshot (like <c>etcdutl snapshot restore --name
/// --initial-cluster</c>). The member is the server configuration's (<c>DATA_DIR</c>, <c>NODE_ID</c>,
/// <c>PEERS</c>, and the object store for a snapshot that references archived tables), from flags or the
/// environment exactly as the server reads them; run it once per member with that member's settings,
/// then start the members. etcd's own snapshot (<c>etcdctl snapshot save</c> against etcd) is imported
/// (<see cref="Bbolt.EtcdBackendImport"/>: keys, revisions, history since its compaction, leases, users, roles,
/// permissions and the auth flag). Progress goes to stderr (<see cref="RestoreProgressLines"/>: verify, unpack, ingest). With <c>--from-s3</c>, from a continuous backup instead (<see cref="RestoreFromS3Command"/>). Exit codes: 0 restored, 1 the snapshot or the target was refused, 2 usage.
/// </summary>
public static class RestoreCommand
{
    public const string Usage = "usage: raftkv restore <snapshot-file> [--cluster-token TOKEN] [--data-dir DIR --node-id N --peers 1=host:port,...] [S3 flags]";

    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error)
    {
        var rest = new List<string>(args);
        if (!RestoreArgs.TryTake(rest, "--cluster-token", out var clusterToken))
        {
            await error.WriteLineAsync("raftkv restore: --cluster-token needs a value").ConfigureAwait(false);
            return 2;
        }

        var token = clusterToken ?? string.Empty;

        if (rest.Remove("--from-s3"))
        {
            return await RestoreFromS3Command.RunAsync(rest, token, output, error).ConfigureAwait(false);
        }

        if (rest.Count == 0 || rest[0].StartsWith("--", StringComparison.Ordinal))
        {
            await error.WriteLineAsync(Usage + "\n" + RestoreFromS3Command.Usage).ConfigureAwait(false);
            return 2;
        }

        var snapshot = rest[0];
        rest.RemoveAt(0);
        if (await RestoreArgs.LoadConfigAsync(rest, error).ConfigureAwait(false) is not { } config)
        {
            return 2;
        }

        if (!File.Exists(snapshot))
        {
            await error.WriteLineAsync($"raftkv restore: snapshot file {snapshot} does not exist").ConfigureAwait(false);
            return 1;
        }

        var members = config.Peers.Count > 0 ? config.Peers.Keys : [config.NodeId];
        var tiering = NodeLifetime.TieringOptionsFor(config);
        using var loggers = LoggerFactory.Create(b => b.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning));
        string? extracted = null;
        try
        {
            var checksum = ReadChecksum(snapshot);
            var clusterId = ClusterIdFile.Derive(members, token, checksum);
            if (await Bbolt.EtcdSnapshotFile.IsEtcdBackendAsync(snapshot).ConfigureAwait(false))
            {
                return await ImportEtcdAsync(snapshot, config, clusterId, members, loggers, output, error).ConfigureAwait(false);
            }

            var remote = tiering is null ? null : new ObjectStoreTableStore(new S3ObjectStore(tiering));
            extracted = await Bbolt.EtcdSnapshotFile.TryExtractAsync(snapshot).ConfigureAwait(false); // etcdctl snapshot save's file
            var r = await SnapshotRestore.RestoreAsync(extracted ?? snapshot, config.DataDir, clusterId, remote, loggers, new RestoreProgressLines(error)).ConfigureAwait(false);
            await output.WriteLineAsync(
                $"restored member {config.NodeId} into {Path.GetFullPath(config.DataDir)}: cluster id {clusterId:x16}, members {string.Join(',', members.Order())}, " +
                $"raft index {r.RaftIndex}, revision {r.Revision}, compact revision {r.CompactRevision}, {r.Leases} leases " +
                $"(snapshot of member {r.Header.SourceNodeId} of cluster {r.Header.ClusterId:x16}, {r.Header.FileCount} files, {r.Header.DataBytes} bytes)").ConfigureAwait(false);
            return 0;
        }
        catch (SnapshotFileException e)
        {
            await error.WriteLineAsync($"raftkv restore: snapshot refused ({e.Error}): {e.Message}").ConfigureAwait(false);
            return 1;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            await error.WriteLineAsync($"raftkv restore: {e.Message}").ConfigureAwait(false);
            return 1;
        }
        finally
        {
            if (extracted is not null)
            {
                File.Delete(extracted);
            }
        }
    }

    /// <summary>etcd's own snapshot: imported (<see cref="Bbolt.EtcdBackendImport"/>), users and roles included.</summary>
    private static async Task<int> ImportEtcdAsync(string snapshot, Configuration.ServerConfig config, ulong clusterId, IEnumerable<long> members, ILoggerFactory loggers, TextWriter output, TextWriter error)
    {
        var r = await Bbolt.EtcdBackendImport.RestoreAsync(snapshot, config.DataDir, clusterId, loggers, new RestoreProgressLines(error)).ConfigureAwait(false);
        var restore = r.Import.Restore;
        var auth = r.Import.Auth;
        await output.WriteLineAsync(
            $"imported etcd snapshot into member {config.NodeId} at {Path.GetFullPath(config.DataDir)}: cluster id {clusterId:x16}, members {string.Join(',', members.Order())}, " +
            $"raft index {restore.RaftIndex}, revision {restore.Revision}, compact revision {restore.CompactRevision}, {r.Import.LiveKeys} keys, " +
            $"{r.Import.Changes} revisions of history, {restore.Leases} leases ({(r.Hashed ? "SHA-256 verified" : "no SHA-256 to verify")}); " +
            $"auth: {auth.Users.Count} users ({r.UsersWithoutPassword} without a password: TLS client certificate only), " +
            $"{auth.Roles.Count} roles with {auth.Roles.Values.Sum(x => x.Permissions.Count)} permissions, " +
            $"auth {(auth.Enabled ? "enabled" : "disabled")}, auth revision {auth.Revision}").ConfigureAwait(false);
        return 0;
    }

    private static byte[] ReadChecksum(string path)
    {
        using var f = File.OpenRead(path);
        var sum = new byte[SnapshotFileFormat.ChecksumLength];
        if (f.Length >= sum.Length)
        {
            f.Position = f.Length - sum.Length;
            f.ReadExactly(sum);
        }

        return sum;
    }
}
