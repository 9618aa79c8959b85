using System.Diagnostics.Metrics;

namespace RaftKv.Server.Observability;

/// <summary>The platform's per-request instruments, exported only on request (<c>METRICS_HTTP_REQUESTS</c>).</summary>
public sealed partial class PrometheusMeterExporter
{
    /// <summary>ASP.NET Core's and HttpClient's instruments that record on every request, stream or pooled buffer
    /// (meter, instrument). Left disabled (no listener enables them) they are not even measured: ASP.NET Core
    /// skips their work (measured: 15–20 % of the three servers' CPU per etcd put at 64 clients; BENCHMARKS.md, "CPU per operation").
    /// Every API call is still counted and timed by <c>raftkv_operations_total</c> /
    /// <c>raftkv_operation_duration_seconds</c>; the per-connection instruments (Kestrel's connections, HttpClient's
    /// open connections) stay exported.</summary>
    public static IReadOnlySet<(string Meter, string Instrument)> PerRequestInstruments { get; } = new HashSet<(string, string)>
    {
        ("Microsoft.AspNetCore.Hosting", "http.server.request.duration"),
        ("Microsoft.AspNetCore.Hosting", "http.server.active_requests"),
        ("Microsoft.AspNetCore.Server.Kestrel", "kestrel.queued_requests"),
        ("Microsoft.AspNetCore.Routing", "aspnetcore.routing.match_attempts"),
        ("Microsoft.AspNetCore.MemoryPool", "aspnetcore.memory_pool.rented"),
        ("Microsoft.AspNetCore.MemoryPool", "aspnetcore.memory_pool.allocated"),
        ("Microsoft.AspNetCore.MemoryPool", "aspnetcore.memory_pool.pooled"),
        ("Microsoft.AspNetCore.MemoryPool", "aspnetcore.memory_pool.evicted"),
        ("System.Net.Http", "http.client.request.duration"),
        ("System.Net.Http", "http.client.active_requests"),
        ("System.Net.Http", "http.client.request.time_in_queue"),
    };

    /// <summary>True when <paramref name="instrument"/> is one of <see cref="PerRequestInstruments"/>.</summary>
    public static bool IsPerRequest(Instrument instrument)
    {
        ArgumentNullException.ThrowIfNull(instrument);
        return PerRequestInstruments.Contains((instrument.Meter.Name, instrument.Name));
    }
}
