using Prometheus;
using RaftKv.Replication.Api;
using RaftKv.Server.Hosting;

namespace RaftKv.Server.Observability;

/// <summary>
/// <c>GET /metrics</c>, the one route every series leaves by (Prometheus text, prometheus-net's
/// default registry).
/// <para>Mechanism. The library layers (RaftKv.Replication, RaftKv.Tiering, and DotNext itself)
/// instrument with <c>System.Diagnostics.Metrics</c> Meters: the BCL API, so they depend on no exporter
/// and stay usable embedded. The server is the only assembly that knows Prometheus: prometheus-net's
/// meter adapter (on by default in the default registry) exports every Meter, named
/// <c>&lt;meter&gt;_&lt;instrument&gt;</c> (e.g. <c>raftkv_replication_raftkv_raft_log_flushes</c>), and
/// the server's own series — <see cref="OperationMetrics"/> and <see cref="NodeStateMetrics"/> — are
/// prometheus-net metrics, because their documented names (no meter prefix), counter type and histogram
/// buckets cannot be expressed through the adapter. Each series has exactly one home; a series never
/// exists both as a Meter instrument and as a prometheus-net metric (the Replication meter's
/// term/commit/applied/is-leader gauges were dropped for the documented <c>raftkv_term</c>, …).</para>
/// </summary>
public static class MetricsEndpoint
{
    public static void MapRaftKvMetrics(this WebApplication app, IKvNode node)
    {
        NodeStateMetrics.Register(node, app.Services.GetRequiredService<FollowerLagMonitor>());
        CorruptionMetrics.Register(node);
        app.MapMetrics("/metrics");
    }
}
