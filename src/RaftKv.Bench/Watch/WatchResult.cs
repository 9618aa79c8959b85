using System.Globalization;

namespace RaftKv.Bench.Watch;

/// <summary>What <see cref="WatchBenchmark"/> measured: puts acknowledged in the window, events expected
/// (acked × watchers) and delivered, delivery lag percentiles (ms), watchers the server canceled.</summary>
public sealed record WatchResult(int Watchers, int Streams, double Rate, double Seconds, long Puts, long PutErrors, long Expected, long Delivered, long Canceled, double LagP50, double LagP99, double LagMax)
{
    public double EventsPerSecond => Delivered / Seconds;

    public string ToJson() => string.Create(CultureInfo.InvariantCulture,
        $"{{\"workload\":\"watch\",\"watchers\":{Watchers},\"streams\":{Streams},\"rate\":{Rate:F0},\"seconds\":{Seconds:F1},\"puts\":{Puts},\"put_errors\":{PutErrors},\"expected\":{Expected},\"delivered\":{Delivered},\"canceled\":{Canceled},\"events_per_sec\":{EventsPerSecond:F0},\"lag_p50_ms\":{LagP50:F3},\"lag_p99_ms\":{LagP99:F3},\"lag_max_ms\":{LagMax:F3}}}");

    public string ToTable() => string.Create(CultureInfo.InvariantCulture,
        $"""
        watchers  streams  puts/s   puts  errors   expected  delivered  canceled   events/s  lag p50 ms  lag p99 ms  lag max ms
        {Watchers,8} {Streams,8} {Rate,7:F0} {Puts,6} {PutErrors,7} {Expected,10} {Delivered,10} {Canceled,9} {EventsPerSecond,10:F0} {LagP50,11:F2} {LagP99,11:F2} {LagMax,11:F2}
        """);
}
