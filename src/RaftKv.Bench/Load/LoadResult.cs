using System.Globalization;

namespace RaftKv.Bench.Load;

/// <summary>Throughput and latency percentiles of a run (latencies in milliseconds).</summary>
public sealed record LoadResult(string Target, string Workload, int Clients, long Requests, long Errors, double Seconds, double P50, double P90, double P99, double Max)
{
    public double Throughput => Requests / Seconds;

    public string ToJson() => string.Create(CultureInfo.InvariantCulture,
        $"{{\"target\":\"{Target}\",\"workload\":\"{Workload}\",\"clients\":{Clients},\"requests\":{Requests},\"errors\":{Errors},\"seconds\":{Seconds:F2},\"ops_per_sec\":{Throughput:F1},\"p50_ms\":{P50:F3},\"p90_ms\":{P90:F3},\"p99_ms\":{P99:F3},\"max_ms\":{Max:F3}}}");

    public string ToTable() => string.Create(CultureInfo.InvariantCulture,
        $"""
        target    workload          clients   requests   errors     ops/s     p50 ms    p90 ms    p99 ms    max ms
        {Target,-9} {Workload,-17} {Clients,7} {Requests,10} {Errors,8} {Throughput,9:F0} {P50,9:F2} {P90,9:F2} {P99,9:F2} {Max,9:F2}
        """);
}
