using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Grpc.Core;

namespace RaftKv.Server.Observability;

/// <summary>
/// go-grpc-prometheus' server series, which etcd exports and etcd's alerting rules read, on
/// <see cref="EtcdMeter"/>: <c>grpc_server_started_total</c> and <c>grpc_server_handling_seconds</c>
/// {grpc_type, grpc_service, grpc_method} and <c>grpc_server_handled_total</c> {…, grpc_code}, for every gRPC
/// service of the node (etcd's, RaftKv's native ones, health). Recorded by
/// <see cref="Pipeline.GrpcOperationInterceptor"/>, the gRPC front door's one metrics home. Codes are named as
/// Go names them (<c>Canceled</c>, not .NET's <c>Cancelled</c>); buckets are Prometheus' defaults, as in
/// go-grpc-prometheus. Message counters (<c>grpc_server_msg_*</c>) are not exported.
/// </summary>
public static class GrpcServerMetrics
{
    public const string Unary = "unary";
    public const string ServerStream = "server_stream";
    public const string ClientStream = "client_stream";
    public const string BidiStream = "bidi_stream";

    private static readonly double[] Buckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    private static readonly string[] CodeNames =
    [
        "OK", "Canceled", "Unknown", "InvalidArgument", "DeadlineExceeded", "NotFound", "AlreadyExists", "PermissionDenied",
        "ResourceExhausted", "FailedPrecondition", "Aborted", "OutOfRange", "Unimplemented", "Internal", "Unavailable",
        "DataLoss", "Unauthenticated",
    ];

    private static readonly Counter<long> StartedCounter = EtcdMeter.Meter.CreateCounter<long>(
        "grpc_server_started_total", description: "Total number of RPCs started on the server.");

    private static readonly Counter<long> HandledCounter = EtcdMeter.Meter.CreateCounter<long>(
        "grpc_server_handled_total", description: "Total number of RPCs completed on the server, regardless of success or failure.");

    private static readonly Histogram<double> Handling = EtcdMeter.Meter.CreateHistogram(
        "grpc_server_handling_seconds", unit: "s", description: "Histogram of response latency (seconds) of gRPC that had been application-level handled by the server.",
        tags: null, advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = Buckets });

    private static readonly ConcurrentDictionary<(string Method, string Type), KeyValuePair<string, object?>[]> Labels = new();

    private static readonly ConcurrentDictionary<(string Method, string Type, StatusCode Code), KeyValuePair<string, object?>[]> LabelsWithCode = new();

    /// <summary>Counts a call that starts; returns the timestamp to hand to <see cref="Handled"/>.</summary>
    public static long Started(string fullMethod, string type)
    {
        var labels = LabelsOf(fullMethod, type);
        StartedCounter.Add(1, labels);
        return Stopwatch.GetTimestamp();
    }

    /// <summary>Counts a call that ended with <paramref name="code"/> and records how long it took.</summary>
    public static void Handled(string fullMethod, string type, StatusCode code, long startedAt)
    {
        Handling.Record(Stopwatch.GetElapsedTime(startedAt).TotalSeconds, LabelsOf(fullMethod, type));
        HandledCounter.Add(1, LabelsWithCode.GetOrAdd((fullMethod, type, code), static k => [.. LabelsOf(k.Method, k.Type), new("grpc_code", CodeName(k.Code))]));
    }

    /// <summary>Go's name of a status code ("Canceled" for .NET's Cancelled).</summary>
    public static string CodeName(StatusCode code) => (int)code >= 0 && (int)code < CodeNames.Length ? CodeNames[(int)code] : "Unknown";

    /// <summary>"/etcdserverpb.KV/Range" → service etcdserverpb.KV, method Range.</summary>
    private static KeyValuePair<string, object?>[] LabelsOf(string fullMethod, string type) => Labels.GetOrAdd((fullMethod, type), static k =>
    {
        var slash = k.Method.LastIndexOf('/');
        var service = slash > 0 ? k.Method[1..slash] : "unknown";
        var method = k.Method[(slash + 1)..];
        return
        [
            new("grpc_type", k.Type),
            new("grpc_service", service),
            new("grpc_method", method),
        ];
    });
}
