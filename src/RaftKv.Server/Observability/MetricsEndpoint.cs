using Prometheus;
using RaftKv.Replication.Api;
using RaftKv.Server.Hosting;

namespace RaftKv.Server.Observability;

/// <summary>
/// <c>GET /metrics</c>, the one route every series leaves by (Prometheus text).
/// <para>Mechanism (docs/architecture.md, "Metrics"): every layer instruments with
/// <c>System.Diagnostics.Metrics</c> Meters — <c>RaftKv.Storage</c>, <c>RaftKv.Replication</c>,
/// <c>RaftKv.Tiering</c> and the server's own <see cref="ServerMeter"/> — and the server alone knows
/// Prometheus: one <see cref="PrometheusMeterExporter"/> feeds them, with DotNext's, ASP.NET Core's and
/// the runtime's meters (ASP.NET Core's and HttpClient's per-request instruments only with
/// <c>METRICS_HTTP_REQUESTS=on</c>), into a registry of this endpoint's own, next to prometheus-net's standard
/// <c>process_*</c>/<c>dotnet_*</c> collectors. prometheus-net's default registry (and its meter adapter,
/// which would export every meter a second time under <c>&lt;meter&gt;_&lt;instrument&gt;</c>) is not used.</para>
/// </summary>
public static class MetricsEndpoint
{
    public static void MapRaftKvMetrics(this WebApplication app, IKvNode node, long quotaBytes, bool httpRequestMetrics = false)
    {
        ArgumentNullException.ThrowIfNull(app);
        var registry = Metrics.NewCustomRegistry();
        DotNetStats.Register(registry);
        FollowerLagMetrics.Register(app.Services.GetRequiredService<FollowerLagMonitor>());
        CorruptionMetrics.Register(node);
        ObjectStoreMetrics.Register(app.Services.GetRequiredService<TieringHost>());
        SpaceMetrics.Register(node, quotaBytes);
        ClientPortMetrics.Register();
        EtcdMetrics.Register(node, Etcd.EtcdIdentity.MemberId(node.NodeId), Etcd.EtcdMaintenanceService.Version, Http.StatusHttpApi.EtcdClusterVersion, quotaBytes);
        var exporter = new PrometheusMeterExporter(registry, app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(MetricsEndpoint)), httpRequestMetrics);
        app.Lifetime.ApplicationStopped.Register(exporter.Dispose);
        app.MapMetrics("/metrics", registry).WithMetadata(new HttpMethodMetadata(["GET", "HEAD"])); // others: 405 JSON, as on every route
    }
}
