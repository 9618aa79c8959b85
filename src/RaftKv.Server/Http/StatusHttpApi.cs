using RaftKv.Replication.Api;
using RaftKv.Server.Configuration;
using RaftKv.Server.Hosting;
using RaftKv.Server.Pipeline;

namespace RaftKv.Server.Http;

/// <summary>/health, /health/live, /health/ready, /version, /stats, /cluster and /admin/* (the corruption check's
/// routes are in <see cref="CorruptionHttpApi"/>).</summary>
public static class StatusHttpApi
{
    /// <summary>etcd's cluster version (major.minor.0) of <see cref="Etcd.EtcdMaintenanceService.Version"/>.</summary>
    public const string EtcdClusterVersion = "3.5.0";

    public static void Map(IEndpointRouteBuilder app)
    {
        // etcd's /health: 503 while an alarm is active, while this member knows no leader ("RAFT NO LEADER"), or
        // when a linearizable read barrier does not complete within a second (etcd's QGET check); ?serializable=true
        // skips the barrier (etcd 3.5), and a learner, which serves no linearizable read, checks only that it tails a leader. /health/live only says the process serves (the liveness probe: restarting
        // members repairs neither a corrupt one nor a lost quorum). "health" is etcd's field ("true"/"false", a
        // string as etcd writes it), so etcd-style probes of the client port work unchanged.
        // object_store: what the last calls to the object store said (null without one). Informational: an unreachable
        // store leaves "health" true — every member shares it, and failing all of them would take the whole cluster out
        // of a load balancer while everything but reads of archived tables still works (docs/operations.md).
        app.MapGet("/health", async (IKvNode node, TieringHost tiering, HttpContext http) =>
        {
            var s = node.GetStatus();
            var alarms = node.Alarms;
            string? reason = alarms.Count > 0 ? string.Join("; ", alarms.Select(a => $"ALARM {a.Name}: {a.Reason}"))
                : s.LeaderId is null ? "RAFT NO LEADER"
                : node.IsLearner || http.Request.Query["serializable"] == "true" ? null
                : await HealthReadFailureAsync(node, http.RequestAborted);
            return reason is null
                ? Results.Json(new { health = "true", status = "ok", node_id = s.NodeId, role = s.Role, term = s.Term, alarms = Array.Empty<object>(), object_store = tiering.ObjectStoreJson() })
                : Results.Json(
                    new { health = "false", status = "unhealthy", reason, node_id = s.NodeId, role = s.Role, term = s.Term, alarms = CorruptionHttpApi.Alarms(alarms), object_store = tiering.ObjectStoreJson() },
                    statusCode: 503);
        });

        // etcd's /version (its JSON, names as etcd writes them): the version Maintenance.Status reports, and RaftKv's
        // own (a field etcd lacks; clients read the two they know).
        app.MapGet("/version", () => Results.Json(new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["etcdserver"] = Etcd.EtcdMaintenanceService.Version,
            ["etcdcluster"] = EtcdClusterVersion,
            ["raftkv"] = Usage.Version,
        }));

        app.MapGet("/health/live", (IKvNode node) => Results.Json(new { status = "ok", node_id = node.NodeId }));

        app.MapGet("/health/ready", (IKvNode node) =>
        {
            var s = node.GetStatus();
            var ready = s.Leader is not null && s.Members.Count(m => m.Available) * 2 > s.Members.Count;
            return Results.Json(new { ready, node_id = s.NodeId, role = s.Role, leader_id = s.LeaderId }, statusCode: ready ? 200 : 503);
        });

        app.MapGet("/stats", (IKvNode node, ServerConfig config, TieringHost tiering, Backup.BackupHost backups) =>
        {
            var s = node.GetStatus();
            var st = node.GetStoreStats();
            var archiver = tiering.Stats();
            var lookups = st.Gets;
            var diskLimit = config.DiskMaxSizeGb * (1L << 30);
            return Results.Json(new Dictionary<string, object?>
            {
                ["memory_entries"] = st.MemtableEntries,
                ["memory_size_bytes"] = st.MemtableBytes,
                ["memory_hit_rate"] = lookups == 0 ? 0.0 : (double)st.MemtableHits / lookups,
                ["disk_entries"] = st.DiskEntries,
                ["disk_size_bytes"] = st.DiskBytes,
                ["archived_metadata_bytes"] = st.ArchivedMetadataBytes,
                ["blob_files"] = st.BlobFiles, // value files (part of disk_size_bytes), and what live tables still point at
                ["blob_bytes"] = st.BlobBytes,
                ["blob_live_bytes"] = st.BlobLiveBytes,
                ["disk_usage_percent"] = DiskUsagePercent(config, st.DiskBytes + st.ArchivedMetadataBytes, diskLimit),
                ["object_entries"] = st.RemoteEntries,
                ["object_size_bytes"] = st.RemoteBytes,
                ["migrations_completed"] = archiver.MigrationsCompleted,
                ["bytes_uploaded"] = archiver.BytesUploaded,
                ["archiver_errors"] = archiver.Errors,
                ["object_store"] = tiering.ObjectStoreJson(),
                ["cache_hits"] = st.CacheHits,
                ["cache_misses"] = st.CacheMisses,
                ["sstables_per_level"] = st.TablesPerLevel,
                ["bytes_per_level"] = st.BytesPerLevel,
                ["immutable_memtables"] = st.ImmutableMemtables,
                ["cache_bytes"] = st.CacheBytes,
                ["cache_capacity_bytes"] = st.CacheCapacityBytes,
                ["cache_blocks"] = st.CacheBlocks,
                ["cache_evictions"] = st.CacheEvictions,
                ["cache_promotions"] = st.CachePromotions,
                ["cache_hit_rate"] = st.CacheHits + st.CacheMisses == 0 ? 0.0 : (double)st.CacheHits / (st.CacheHits + st.CacheMisses),
                ["object_gets"] = st.ObjectGets,
                ["object_read_requests"] = st.ObjectReadRequests,
                ["object_read_bytes"] = st.ObjectReadBytes,
                ["compaction_pending"] = st.CompactionPending,
                ["flushes"] = st.Flushes,
                ["compactions"] = st.Compactions,
                ["trivial_moves"] = st.TrivialMoves,
                ["flush_bytes_written"] = st.FlushBytesWritten,
                ["compaction_bytes_read"] = st.CompactionBytesRead,
                ["compaction_bytes_written"] = st.CompactionBytesWritten,
                ["remote_tables_compacted"] = st.RemoteTablesCompacted,
                ["remote_bytes_compacted"] = st.RemoteBytesCompacted,
                ["node_id"] = s.NodeId,
                ["cluster_uid"] = node.ClusterUid,
                ["role"] = s.Role,
                ["term"] = s.Term,
                ["leader_id"] = s.LeaderId,
                ["leader"] = s.Leader?.HttpAddress,
                ["commit_index"] = s.CommitIndex,
                ["applied_index"] = s.AppliedIndex,
                ["durable_index"] = s.DurableIndex,
                ["last_log_index"] = s.LastLogIndex,
                ["snapshots_taken"] = s.SnapshotsTaken,
                ["snapshots_installed"] = s.SnapshotsInstalled,
                ["alarms"] = CorruptionHttpApi.Alarms(node.Alarms),
                ["quota_backend_bytes"] = config.EffectiveQuotaBytes,
                ["local_backend_bytes"] = node.LocalBackendBytes,
                ["space_problem"] = node.SpaceProblem,
                ["corruption_check"] = CorruptionHttpApi.Status(node.CorruptionCheck),
                ["backup"] = BackupHttpApi.Stats(backups.Stats()),
            });
        });

        app.MapGet("/cluster", (IKvNode node, FollowerLagMonitor lags) =>
        {
            var revision = node.Revision;
            var s = node.GetStatus();
            return Results.Json(new
            {
                node_id = s.NodeId,
                term = s.Term,
                revision,
                leader_id = s.LeaderId,
                role = s.Role,
                commit_index = s.CommitIndex,
                applied_index = s.AppliedIndex,
                members = s.Members.Select(m => new { id = m.Id, raft = m.RaftAddress, grpc = m.GrpcAddress, http = m.HttpAddress, leader = m.IsLeader, local = m.IsLocal, available = m.Available, is_learner = m.IsLearner, lag = lags.Lags.TryGetValue(m.Id, out var lag) ? lag.Entries : (long?)null }),
            });
        });

        app.MapPost("/admin/flush", async (IKvNode node, CancellationToken ct) =>
        {
            await node.FlushAsync(ct).ConfigureAwait(false);
            return Results.Json(new { flushed = true, durable_index = node.DurableIndex });
        });

        app.MapPost("/admin/compact", async (IKvNode node, CancellationToken ct) =>
        {
            var before = node.GetStoreStats().TablesPerLevel.Sum();
            await node.CompactAsync(ct).ConfigureAwait(false);
            return Results.Json(new { compacted = true, tables_before = Grpc.AdminGrpcService.TablesBefore(node, before), tables_after = node.GetStoreStats().TablesPerLevel.Sum() });
        });

        app.MapPost("/admin/move-leader", async (HttpRequest request, IKvNode node, CancellationToken ct) =>
        {
            var to = HttpArgs.MemberId(request, "target") ?? throw new ArgumentException("the member to lead is required: /admin/move-leader?target=<node id>");
            await node.MoveLeaderAsync(to, ct).ConfigureAwait(false);
            return Results.Json(new { leader = to });
        }).ForwardToLeader();

        app.MapPost("/admin/migrate", async (TieringHost tiering, CancellationToken ct) =>
        {
            if (!tiering.Enabled)
            {
                return ApiError.Result(400, "no_object_store", "no object store is configured (set S3_ENDPOINT)");
            }

            var r = await tiering.RunOnceAsync(ct).ConfigureAwait(false);
            return Results.Json(new { tables_migrated = r.TablesMigrated, bytes_uploaded = r.BytesUploaded });
        });
    }

    private static double DiskUsagePercent(ServerConfig config, long diskBytes, double diskLimit)
    {
        if (diskLimit > 0)
        {
            return Math.Round(100.0 * diskBytes / diskLimit, 2);
        }

        try
        {
            var drive = new DriveInfo(Path.GetFullPath(config.DataDir));
            return Math.Round(100.0 * (drive.TotalSize - drive.AvailableFreeSpace) / drive.TotalSize, 2);
        }
        catch (IOException)
        {
            return 0;
        }
    }

    /// <summary>etcd's QGET check: null when a linearizable read barrier completes within <see cref="HealthReadTimeout"/>,
    /// else the reason /health reports.</summary>
    private static async Task<string?> HealthReadFailureAsync(IKvNode node, CancellationToken aborted)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(aborted);
        timeout.CancelAfter(HealthReadTimeout);
        try
        {
            await node.ReadBarrierAsync(timeout.Token);
            return null;
        }
        catch (OperationCanceledException) when (!aborted.IsCancellationRequested)
        {
            return "QGET ERROR: no linearizable read within " + HealthReadTimeout.TotalSeconds + " s";
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return "QGET ERROR: " + e.Message;
        }
    }

    /// <summary>How long /health waits for its read barrier (etcd's one second).</summary>
    private static readonly TimeSpan HealthReadTimeout = TimeSpan.FromSeconds(1);
}
