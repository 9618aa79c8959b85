using RaftKv.Replication.Api;

namespace RaftKv.Server.Observability;

/// <summary>
/// The space quota's series on <see cref="ServerMeter"/> (docs/operations.md, "Space quota"), observed
/// when a scrape comes: <c>raftkv_nospace_alarm</c> (1 while a NOSPACE alarm is active in the cluster —
/// alarms are replicated, so every member shows it), <c>raftkv_space_problem</c> (1 while this member
/// itself is out of space: past its quota, under the free-space low-water mark, or after ENOSPC),
/// <c>raftkv_backend_local_bytes</c> (the local bytes the quota limits) and
/// <c>raftkv_quota_backend_bytes</c> (the quota in force, 0 = none) — what etcd exports as
/// <c>etcd_mvcc_db_total_size_in_bytes</c> and <c>etcd_server_quota_backend_bytes</c> (every series of
/// ours is <c>raftkv_*</c>: PrometheusMeterExporter.Naming).
/// </summary>
public static class SpaceMetrics
{
    /// <summary>Observes <paramref name="node"/> (once per process: the server hosts one node).</summary>
    public static void Register(IKvNode node, long quotaBytes)
    {
        ArgumentNullException.ThrowIfNull(node);
        var meter = ServerMeter.Meter;
        meter.CreateObservableGauge("raftkv_nospace_alarm", () => node.Alarms.Any(a => a.Alarm == AlarmType.NoSpace) ? 1 : 0,
            description: "1 while a NOSPACE alarm is active (writes that add data are refused; see /health and etcdctl alarm list)");
        meter.CreateObservableGauge("raftkv_space_problem", () => node.SpaceProblem is null ? 0 : 1,
            description: "1 while this member is out of space (quota passed, free space under the low-water mark, or ENOSPC)");
        meter.CreateObservableGauge("raftkv_backend_local_bytes", () => node.LocalBackendBytes,
            unit: "By", description: "Local bytes of this member's store that QUOTA_BACKEND_BYTES limits (S3 never counts)");
        meter.CreateObservableGauge("raftkv_quota_backend_bytes", () => quotaBytes,
            unit: "By", description: "QUOTA_BACKEND_BYTES in force (0 = no quota)");
    }
}
