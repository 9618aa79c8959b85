using System.Globalization;
using RaftKv.Replication.Api;
using RaftKv.Server.Backup;
using RaftKv.Server.Pipeline;
using RaftKv.Tiering.Backups;

namespace RaftKv.Server.Http;

/// <summary>
/// Continuous backups over HTTP (docs/operations.md, "Backups"): <c>POST /admin/backup</c> takes one now (on
/// the leader; forwarded there from a follower) and answers its manifest; <c>GET /admin/backups</c> lists the
/// bucket's backups. Both need BACKUP_INTERVAL set (400 otherwise); the JSON shapes are also <c>/stats</c>' "backup".
/// <c>GET /admin/snapshot[?reference_archived=true]</c> downloads this member's backup snapshot (no S3 needed).
/// </summary>
public static class BackupHttpApi
{
    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapPost("/admin/backup", async (BackupHost backups, CancellationToken ct) =>
        {
            if (backups.Scheduler is not { } scheduler)
            {
                return NotConfigured();
            }

            try
            {
                return Results.Json(Manifest(await scheduler.RunOnceAsync(ct).ConfigureAwait(false), backups.Stats().ClusterUid));
            }
            catch (BackupException e)
            {
                return Failed(e);
            }
        }).ForwardToLeader();

        // The answering member's backup snapshot as a download (the bytes of Admin.Snapshot and etcd's
        // Maintenance.Snapshot; docs/api.md, "Snapshots"): Content-Length is the whole file, so a client shows
        // bytes received of the total while it streams. Not forwarded: the snapshot is of this member.
        app.MapGet("/admin/snapshot", async (HttpContext ctx, IKvNode node, ISnapshotSource snapshots, Etcd.EtcdIdentity identity, CancellationToken ct) =>
        {
            var referenceArchived = HttpArgs.Flag(ctx.Request, "reference_archived") == true;
            using var export = await snapshots.ExportSnapshotAsync(referenceArchived, identity.ClusterId, ct).ConfigureAwait(false);
            var response = ctx.Response;
            response.ContentType = "application/octet-stream";
            response.ContentLength = export.Length;
            response.Headers.ContentDisposition = string.Create(CultureInfo.InvariantCulture, $"attachment; filename=\"raftkv-{node.NodeId}-{export.Header.RaftIndex}.snapshot\"");
            response.Headers["X-RaftKv-Raft-Index"] = export.Header.RaftIndex.ToString(CultureInfo.InvariantCulture);
            await export.WriteToAsync(response.Body, null, ct).ConfigureAwait(false);
        });

        app.MapGet("/admin/backups", async (BackupHost backups, CancellationToken ct) =>
        {
            if (backups.Scheduler is not { } scheduler)
            {
                return NotConfigured();
            }

            var listing = await scheduler.Catalog.ListAsync(ct).ConfigureAwait(false);
            var uid = backups.Stats().ClusterUid;
            return Results.Json(new
            {
                cluster_uid = uid,
                backups = listing.Backups.Select(m => Manifest(m, uid)),
                unreadable = listing.Unreadable.Select(u => new { key = u.Key, error = u.Error.Error.ToString(), message = u.Error.Message }),
            });
        });
    }

    /// <summary>A backup as the HTTP API and <c>/stats</c> show it (without its file list): <c>cluster_uid</c> is null for a
    /// legacy backup (manifest format version 1); <c>this_cluster</c> whether it is of the cluster <paramref name="clusterUid"/>
    /// (the answering node's; a legacy backup never is).</summary>
    public static object Manifest(BackupManifest m, string? clusterUid) => new
    {
        id = m.Id,
        cluster_uid = m.ClusterUid,
        this_cluster = m.IsOf(clusterUid),
        cluster_id = m.ClusterId.ToString("x16", System.Globalization.CultureInfo.InvariantCulture),
        source_node_id = m.SourceNodeId,
        created = m.Created.UtcDateTime.ToString("O", System.Globalization.CultureInfo.InvariantCulture),
        raft_index = m.RaftIndex,
        revision = m.Revision,
        compact_revision = m.CompactRevision,
        files = m.Files.Count,
        size_bytes = m.DataBytes,
        uploaded_bytes = m.UploadedBytes,
        members = m.Members.Select(x => new { id = x.Id, address = x.Address }),
    };

    /// <summary>The node's backup state for <c>/stats</c>.</summary>
    public static object Stats(BackupStats s) => new
    {
        enabled = s.Enabled,
        cluster_uid = s.ClusterUid,
        waiting_for_cluster_uid = s.WaitingForClusterUid,
        newest = s.Newest is { } n ? Manifest(n, s.ClusterUid) : null,
        age_seconds = s.AgeSeconds,
        size_bytes = s.Newest?.DataBytes,
        retained = s.Retained,
        taken = s.Taken,
        failures = s.Failures,
        last_duration_seconds = s.LastDurationSeconds,
        last_error = s.LastError,
    };

    private static IResult NotConfigured() => ApiError.Result(400, "backups_off", "continuous backups are off (set BACKUP_INTERVAL and S3_ENDPOINT)");

    private static IResult Failed(BackupException e) => ApiError.Result(503, "backup_" + e.Error.ToString().ToLowerInvariant(), e.Message);
}
