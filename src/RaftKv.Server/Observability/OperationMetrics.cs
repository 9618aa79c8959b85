using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace RaftKv.Server.Observability;

/// <summary>
/// Client operations per front door (<c>api</c> = http | grpc), recorded by the pipeline
/// (<see cref="Pipeline.HttpOperationMetrics"/>, <see cref="Pipeline.GrpcOperationInterceptor"/>) on
/// <see cref="ServerMeter"/>. Series: <c>raftkv_operations_total{api,op,outcome}</c> and
/// <c>raftkv_operation_duration_seconds{api,op}</c> (docs/architecture.md, "Metrics").
/// </summary>
public static class OperationMetrics
{
    /// <summary>100 µs doubling to about 13 s: the buckets the histogram always had.</summary>
    private static readonly double[] Buckets = [.. Enumerable.Range(0, 18).Select(i => 0.0001 * Math.Pow(2, i))];

    private static readonly Counter<long> Operations = ServerMeter.Meter.CreateCounter<long>(
        "raftkv_operations_total", description: "Client operations by API, type and outcome");

    private static readonly Histogram<double> Latency = ServerMeter.Meter.CreateHistogram(
        "raftkv_operation_duration_seconds", unit: "s", description: "Client operation latency", tags: null, advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = Buckets });

    /// <summary>Times one operation; dispose to record its duration.</summary>
    public static OperationTimer Time(string api, string op) => new(api, op, Stopwatch.GetTimestamp());

    /// <summary>Counts one finished operation; <paramref name="outcome"/> is ok, client_error or error.</summary>
    public static void Count(string api, string op, string outcome) =>
        Operations.Add(1, new KeyValuePair<string, object?>("api", api), new KeyValuePair<string, object?>("op", op), new KeyValuePair<string, object?>("outcome", outcome));

    internal static void RecordDuration(string api, string op, TimeSpan elapsed) =>
        Latency.Record(elapsed.TotalSeconds, new KeyValuePair<string, object?>("api", api), new KeyValuePair<string, object?>("op", op));
}
