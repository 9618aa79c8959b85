using System.Diagnostics.Metrics;
using System.Globalization;
using RaftKv.Server.Hosting;

namespace RaftKv.Server.Observability;

/// <summary><c>raftkv_follower_lag_entries{member}</c> on <see cref="ServerMeter"/>: the leader's last
/// measurement of each follower (<see cref="FollowerLagMonitor"/>), one sample per measured member; a
/// member that is no longer measured (leadership moved, member removed) drops out at the next scrape.</summary>
public static class FollowerLagMetrics
{
    /// <summary>Observes <paramref name="monitor"/> (once per process: the server has one monitor).</summary>
    public static void Register(FollowerLagMonitor monitor) =>
        ServerMeter.Meter.CreateObservableGauge(
            "raftkv_follower_lag_entries",
            () => monitor.Lags.Select(l => new Measurement<long>(l.Value.Entries, new KeyValuePair<string, object?>("member", l.Key.ToString(CultureInfo.InvariantCulture)))),
            description: "Leader only: leader commit index minus each follower's applied index");
}
