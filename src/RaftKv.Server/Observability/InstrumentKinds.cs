using System.Diagnostics.Metrics;

namespace RaftKv.Server.Observability;

/// <summary>Classifies .NET instruments for <see cref="PrometheusMeterExporter"/>.</summary>
internal static class InstrumentKinds
{
    /// <summary>Runtime instruments created as <c>ObservableCounter</c> although their value goes down as well as up
    /// (System.Runtime's thread-pool thread count and queue length, .NET 9 and 10): exported as gauges, since a
    /// Prometheus counter that decreases reads as a reset to <c>rate()</c> and every dashboard.</summary>
    private static readonly HashSet<(string Meter, string Instrument)> NotMonotonic =
    [
        ("System.Runtime", "dotnet.thread_pool.thread.count"),
        ("System.Runtime", "dotnet.thread_pool.queue.length"),
    ];

    public static InstrumentKind Of(Instrument instrument)
    {
        ArgumentNullException.ThrowIfNull(instrument);
        if (NotMonotonic.Contains((instrument.Meter.Name, instrument.Name)))
        {
            return InstrumentKind.ObservableGauge;
        }

        var type = instrument.GetType();
        while (type is not null && !(type.IsGenericType && type.Namespace == typeof(Counter<>).Namespace))
        {
            type = type.BaseType;
        }

        var definition = type?.GetGenericTypeDefinition();
        return definition switch
        {
            _ when definition == typeof(Counter<>) => InstrumentKind.Counter,
            _ when definition == typeof(ObservableCounter<>) => InstrumentKind.ObservableCounter,
            _ when definition == typeof(UpDownCounter<>) => InstrumentKind.UpDownCounter,
            _ when definition == typeof(Gauge<>) => InstrumentKind.Gauge,
            _ when definition == typeof(ObservableGauge<>) || definition == typeof(ObservableUpDownCounter<>) => InstrumentKind.ObservableGauge,
            _ when definition == typeof(Histogram<>) => InstrumentKind.Histogram,
            _ => InstrumentKind.Unsupported,
        };
    }

    /// <summary>Counters of either kind: exported as Prometheus counters, so their names end in <c>_total</c>.</summary>
    public static bool IsCounter(InstrumentKind kind) => kind is InstrumentKind.Counter or InstrumentKind.ObservableCounter;

    /// <summary>Buckets for a histogram in milliseconds that advises none (DotNext's Raft timings: broadcast time,
    /// response time): prometheus-net's defaults are for seconds (5 ms … 10 s), so every sample of 10 ms or more
    /// fell into the top bucket.</summary>
    public static readonly double[] MillisecondBuckets = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000];

    /// <summary>The histogram bucket boundaries the instrument advises (<see cref="InstrumentAdvice{T}"/>);
    /// <see cref="MillisecondBuckets"/> for one in <c>ms</c> without advice; else null for prometheus-net's defaults.</summary>
    public static double[]? BucketAdvice(Instrument instrument) => instrument switch
    {
        Instrument<double> d => d.Advice?.HistogramBucketBoundaries?.ToArray(),
        Instrument<float> f => f.Advice?.HistogramBucketBoundaries?.Select(x => (double)x).ToArray(),
        Instrument<long> l => l.Advice?.HistogramBucketBoundaries?.Select(x => (double)x).ToArray(),
        Instrument<int> i => i.Advice?.HistogramBucketBoundaries?.Select(x => (double)x).ToArray(),
        _ => null,
    } ?? (instrument.Unit == "ms" ? MillisecondBuckets : null);
}
