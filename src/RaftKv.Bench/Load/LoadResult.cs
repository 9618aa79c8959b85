using System.Globalization;
using System.Text;
using System.Text.Json;

namespace RaftKv.Bench.Load;

/// <summary>Throughput and latency percentiles of a run (latencies in milliseconds); for gets against a target
/// that reports tiers, the same per tier in <see cref="Tiers"/>.</summary>
public sealed record LoadResult(string Target, string Workload, int Clients, long Requests, long Errors, double Seconds, double P50, double P90, double P99, double Max)
{
    public double Throughput => Requests / Seconds;

    /// <summary>Reads per tier that answered them (<c>memory</c>, <c>disk</c>, <c>object</c>, <c>unknown</c>,
    /// <c>not_found</c>); empty for writes.</summary>
    public IReadOnlyDictionary<string, TierLatency> Tiers { get; init; } = new Dictionary<string, TierLatency>();

    /// <summary>Keys written by the <c>load</c> workload (a batch is one request), else 0.</summary>
    public long Keys { get; init; }

    /// <summary>Key and value bytes written by the <c>load</c> workload, else 0.</summary>
    public long Bytes { get; init; }

    /// <summary>Authenticate calls this run made (<c>--user</c>; 0 when it reused a <c>--token-file</c>).</summary>
    public long Authentications { get; init; }

    /// <summary>Failed requests by gRPC status code, with the first failure's detail (empty when none failed).</summary>
    public IReadOnlyDictionary<string, (long Count, string Example)> ErrorKinds { get; init; } = new Dictionary<string, (long, string)>();

    /// <summary>uniform | zipf.</summary>
    public string Distribution { get; init; } = "uniform";

    public string ToJson()
    {
        var s = new StringBuilder();
        s.Append(CultureInfo.InvariantCulture,
            $"{{\"target\":\"{Target}\",\"workload\":\"{Workload}\",\"clients\":{Clients},\"requests\":{Requests},\"errors\":{Errors},\"seconds\":{Seconds:F2},\"ops_per_sec\":{Throughput:F1},\"p50_ms\":{P50:F3},\"p90_ms\":{P90:F3},\"p99_ms\":{P99:F3},\"max_ms\":{Max:F3}");
        if (Keys > 0)
        {
            s.Append(CultureInfo.InvariantCulture, $",\"keys\":{Keys},\"bytes\":{Bytes},\"keys_per_sec\":{Keys / Seconds:F1},\"mb_per_sec\":{Bytes / Seconds / 1e6:F2}");
        }

        if (ErrorKinds.Count > 0)
        {
            s.Append(",\"error_kinds\":{");
            s.AppendJoin(',', ErrorKinds.Select(k => $"{JsonSerializer.Serialize(k.Key)}:{{\"count\":{k.Value.Count},\"example\":{JsonSerializer.Serialize(k.Value.Example)}}}"));
            s.Append('}');
        }

        if (Authentications > 0)
        {
            s.Append(CultureInfo.InvariantCulture, $",\"authentications\":{Authentications}");
        }

        if (Tiers.Count > 0)
        {
            s.Append(CultureInfo.InvariantCulture, $",\"distribution\":\"{Distribution}\",\"tiers\":{{");
            s.AppendJoin(',', Tiers.Select(t => string.Create(CultureInfo.InvariantCulture, $"\"{t.Key}\":{{\"requests\":{t.Value.Requests},\"p50_ms\":{t.Value.P50:F3},\"p99_ms\":{t.Value.P99:F3}}}")));
            s.Append('}');
        }

        return s.Append('}').ToString();
    }

    public string ToTable()
    {
        var s = new StringBuilder(string.Create(CultureInfo.InvariantCulture,
            $"""
            target    workload          clients   requests   errors     ops/s     p50 ms    p90 ms    p99 ms    max ms
            {Target,-9} {Workload,-17} {Clients,7} {Requests,10} {Errors,8} {Throughput,9:F0} {P50,9:F2} {P90,9:F2} {P99,9:F2} {Max,9:F2}
            """));
        if (Keys > 0)
        {
            s.Append(CultureInfo.InvariantCulture, $"\nloaded {Keys} keys, {Bytes / 1e6:F1} MB: {Keys / Seconds:F0} keys/s, {Bytes / Seconds / 1e6:F1} MB/s");
        }

        foreach (var (tier, t) in Tiers)
        {
            s.Append(CultureInfo.InvariantCulture, $"\n  {Distribution} {tier,-10} {t.Requests,10} reads  p50 {t.P50,7:F2} ms  p99 {t.P99,7:F2} ms");
        }

        foreach (var (status, (count, example)) in ErrorKinds)
        {
            s.Append(CultureInfo.InvariantCulture, $"\nfailed: {count} × {status} (first: {example})");
        }

        return s.ToString();
    }
}
