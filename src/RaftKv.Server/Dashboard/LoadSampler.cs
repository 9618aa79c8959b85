using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using RaftKv.Server.Observability;

namespace RaftKv.Server.Dashboard;

/// <summary>
/// The node's recent load for the dashboard's load page (<c>GET /stats/load</c>): per-second samples of
/// every client operation (<c>api</c>, <c>op</c>) — count, errors and latency percentiles — over the last
/// <see cref="WindowSeconds"/> seconds. It listens to the same instruments as /metrics
/// (<see cref="OperationMetrics"/>: <c>raftkv_operation_duration_seconds</c> for counts and latency,
/// <c>raftkv_operations_total</c> for outcomes other than ok), so it sees exactly what /metrics counts;
/// nothing is persisted and a restart starts empty. Memory is bounded: one ring of
/// <see cref="WindowSeconds"/> slots per (api, op) pair, each slot a fixed latency histogram
/// (<see cref="LoadSeries"/>).
/// </summary>
public sealed class LoadSampler : IDisposable
{
    public const int WindowSeconds = 600;

    private readonly ConcurrentDictionary<(string Api, string Op), LoadSeries> _series = new();
    private readonly MeterListener _listener = new();
    private readonly TimeProvider _time;

    public LoadSampler(TimeProvider time)
    {
        _time = time;
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == ServerMeter.Name && instrument.Name is "raftkv_operation_duration_seconds" or "raftkv_operations_total")
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<double>((_, seconds, tags, _) => Series(tags)?.RecordLatency(Now, seconds));
        _listener.SetMeasurementEventCallback<long>((_, _, tags, _) =>
        {
            if (Tag(tags, "outcome") is { } outcome && outcome != "ok")
            {
                Series(tags)?.RecordError(Now);
            }
        });
        _listener.Start();
    }

    private long Now => _time.GetUtcNow().ToUnixTimeSeconds();

    /// <summary>The complete seconds of the last <paramref name="seconds"/> (the current, partial second
    /// excluded), oldest first, one point per second with zeros where nothing happened.</summary>
    public LoadSnapshot Snapshot(int seconds)
    {
        seconds = Math.Clamp(seconds, 1, WindowSeconds - 1);
        var last = Now - 1;
        var first = last - seconds + 1;
        var series = _series
            .OrderBy(s => s.Key.Api, StringComparer.Ordinal).ThenBy(s => s.Key.Op, StringComparer.Ordinal)
            .Select(s => new LoadSnapshot.Series(s.Key.Api, s.Key.Op, s.Value.Points(first, last)))
            .ToList();
        return new LoadSnapshot(first, last, series);
    }

    public void Dispose() => _listener.Dispose();

    private LoadSeries? Series(ReadOnlySpan<KeyValuePair<string, object?>> tags)
        => Tag(tags, "api") is { } api && Tag(tags, "op") is { } op ? _series.GetOrAdd((api, op), _ => new LoadSeries()) : null;

    private static string? Tag(ReadOnlySpan<KeyValuePair<string, object?>> tags, string name)
    {
        foreach (var t in tags)
        {
            if (t.Key == name)
            {
                return t.Value as string;
            }
        }

        return null;
    }
}
