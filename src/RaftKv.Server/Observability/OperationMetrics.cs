using Prometheus;

namespace RaftKv.Server.Observability;

/// <summary>
/// Client operations per front door (<c>api</c> = http | grpc), recorded by the pipeline
/// (<see cref="Pipeline.HttpOperationMetrics"/>, <see cref="Pipeline.GrpcOperationInterceptor"/>).
/// Series: <c>raftkv_operations_total{api,op,outcome}</c> and
/// <c>raftkv_operation_duration_seconds{api,op}</c> (docs/architecture.md, "Metrics").
/// </summary>
public static class OperationMetrics
{
    private static readonly Counter Operations = Prometheus.Metrics.CreateCounter(
        "raftkv_operations_total", "Client operations by API, type and outcome", new CounterConfiguration { LabelNames = ["api", "op", "outcome"] });

    private static readonly Histogram Latency = Prometheus.Metrics.CreateHistogram(
        "raftkv_operation_duration_seconds", "Client operation latency", new HistogramConfiguration
        {
            LabelNames = ["api", "op"],
            Buckets = Histogram.ExponentialBuckets(0.0001, 2, 18),
        });

    /// <summary>Times one operation; dispose to record its duration.</summary>
    public static IDisposable Time(string api, string op) => Latency.WithLabels(api, op).NewTimer();

    /// <summary>Counts one finished operation; <paramref name="outcome"/> is ok, client_error or error.</summary>
    public static void Count(string api, string op, string outcome) => Operations.WithLabels(api, op, outcome).Inc();
}
