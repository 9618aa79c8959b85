using RaftKv.Replication.Api;
using RaftKv.Server.Backup;
using RaftKv.Server.Hosting;
using RaftKv.Server.Pipeline;
using RaftKv.Storage;
using RaftKv.Tiering;
using RaftKv.Tiering.Backups;

namespace RaftKv.Server.Http;

/// <summary>
/// Progress of the long admin operations, for the dashboard's progress bars and scripts (docs/api.md,
/// "Operation progress"), each answered as one <see cref="ProgressBody"/>:
/// <c>GET /admin/compact/progress</c> (this node's full compaction: level pushes), <c>GET /admin/migrate/progress</c>
/// (this node's archiver pass: tables) and <c>GET /admin/backup/progress</c> (the backup on the leader, where
/// <c>POST /admin/backup</c> runs: files; forwarded there from a follower). Each shows the running operation, or
/// the last one (<c>state</c> done or failed), or <c>state</c> idle before any, or <c>state</c> unavailable when the
/// node is not configured for it (no object store, backups off; <c>error</c> says what to set). The counters come from the layers
/// (<see cref="CompactionProgress"/>, <see cref="MigrationProgress"/>, <see cref="BackupProgress"/>); this only maps them.
/// Root only when auth is on (every /admin route).
/// </summary>
public static class OperationsHttpApi
{
    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapGet("/admin/compact/progress", (IKvNode node) => Results.Json(node.ManualCompaction is { } p
            ? Body("compaction", node.NodeId, p.Running, p.Error, "levels", p.StepsDone, p.StepsTotal, p.BytesDone, p.BytesTotal, p.Started, p.Finished, null)
            : Idle("compaction", node.NodeId, "levels")));

        app.MapGet("/admin/migrate/progress", (IKvNode node, TieringHost tiering) =>
        {
            if (!tiering.Enabled)
            {
                return Results.Json(Unavailable("migration", node.NodeId, "tables", "no object store is configured (set S3_ENDPOINT)"));
            }

            return Results.Json(tiering.Progress is { } p
                ? Body("migration", node.NodeId, p.Running, p.Error, "tables", p.TablesDone, p.TablesTotal, p.BytesDone, p.BytesTotal, p.Started, p.Finished, null)
                : Idle("migration", node.NodeId, "tables"));
        });

        app.MapGet("/admin/backup/progress", (IKvNode node, BackupHost backups) =>
        {
            if (backups.Scheduler is not { } scheduler)
            {
                return Results.Json(Unavailable("backup", node.NodeId, "files", "continuous backups are off (set BACKUP_INTERVAL and S3_ENDPOINT)"));
            }

            return Results.Json(scheduler.Progress is { } p
                ? Body("backup", node.NodeId, p.Running, p.Error, "files", p.FilesDone, p.FilesTotal, p.BytesDone, p.BytesTotal, p.Started, p.Finished, p.BackupId) with { Reused = p.TablesReused }
                : Idle("backup", node.NodeId, "files"));
        }).ForwardToLeader();
    }

    private static ProgressBody Body(string operation, long nodeId, bool running, string? error, string unit, long done, long total, long bytesDone, long bytesTotal, DateTimeOffset started, DateTimeOffset? finished, string? backupId)
        => new(operation, nodeId, running ? "running" : error is null ? "done" : "failed", unit, done, total, bytesDone, bytesTotal,
            started.UtcDateTime.ToString("O", System.Globalization.CultureInfo.InvariantCulture),
            finished?.UtcDateTime.ToString("O", System.Globalization.CultureInfo.InvariantCulture), error, backupId);

    private static ProgressBody Idle(string operation, long nodeId, string unit) => new(operation, nodeId, "idle", unit, 0, 0, 0, 0, null, null, null, null);

    private static ProgressBody Unavailable(string operation, long nodeId, string unit, string why) => new(operation, nodeId, "unavailable", unit, 0, 0, 0, 0, null, null, why, null);

    /// <summary>One operation's progress on the wire (snake_case): <c>state</c> idle | running | done | failed | unavailable;
    /// <c>done</c> of <c>total</c> counted in <c>unit</c> (levels, tables, files; total 0 = not known yet);
    /// <c>bytes_done</c> of <c>bytes_total</c>; <c>started</c>/<c>finished</c> ISO 8601 UTC; <c>error</c> when
    /// failed; a backup's <c>backup_id</c> and <c>reused</c> (tables an earlier backup stored).</summary>
    public sealed record ProgressBody(string Operation, long NodeId, string State, string Unit, long Done, long Total, long BytesDone, long BytesTotal,
        string? Started, string? Finished, string? Error, string? BackupId, int Reused = 0);
}
