using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;
using Prometheus;

namespace RaftKv.Server.Observability;

/// <summary>
/// The one exporter: a <see cref="MeterListener"/> that feeds every Meter in the process — RaftKv's
/// (<c>RaftKv.Storage</c>, <c>RaftKv.Replication</c>, <c>RaftKv.Tiering</c>, <c>RaftKv.Server</c>) and the
/// platform's (DotNext, ASP.NET Core, <c>System.Runtime</c>) — into prometheus-net collectors in one
/// registry, served by <c>GET /metrics</c> (<see cref="MetricsEndpoint"/>).
/// </summary>
/// <remarks>
/// <para>Why not prometheus-net's own meter adapter: it names every series
/// <c>&lt;meter&gt;_&lt;instrument&gt;</c> (hence <c>raftkv_replication_raftkv_raft_log_flushes</c>), exports
/// counters as gauges (no <c>_total</c>, no counter type) and expires idle series; none of that is
/// configurable. Here the layers name their instruments with the final Prometheus name and this class
/// keeps it (naming rules: <see cref="ExportName"/>), maps each instrument kind to the Prometheus type
/// that means the same, and takes histogram buckets from the instrument's advice (millisecond buckets for an instrument in
/// <c>ms</c> without advice, e.g. DotNext's Raft timings: <c>InstrumentKinds.MillisecondBuckets</c>).</para>
/// <para>Instrument → Prometheus: <c>Counter</c> → counter (each measurement is an increment);
/// <c>ObservableCounter</c> → counter (each observation is the running total); <c>UpDownCounter</c> → gauge
/// (increment); <c>Gauge</c>, <c>ObservableGauge</c>, <c>ObservableUpDownCounter</c> → gauge (value);
/// <c>Histogram</c> → histogram. Label names are the measurement's tag keys (sorted), fixed by the first
/// measurement; a measurement missing one of them records it empty; one with other keys is summed into the
/// series of its known keys when it is an increment (counter, up-down counter, histogram), and otherwise dropped
/// and logged once. Observable instruments are
/// read just before each scrape, and a label set an observable instrument no longer reports is removed.
/// A labelled series appears with its first measurement.</para>
/// <para>One node per process: two instruments with the same exported name feed the same series. A few own
/// series are also exported under etcd's name (<see cref="EtcdAlias"/>): each measurement feeds both.</para>
/// </remarks>
public sealed partial class PrometheusMeterExporter : IDisposable
{
    private readonly IMetricFactory _factory;
    private readonly ILogger _logger;
    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<string, ExportedSeries> _series = new(StringComparer.Ordinal);
    private readonly Lock _collectLock = new();
    private readonly bool _perRequest;
    private long _round;
    private volatile bool _disposed;

    /// <param name="registry">The registry the series go to.</param>
    /// <param name="logger">Where instruments that cannot be exported are reported.</param>
    /// <param name="perRequest">Also export the platform's per-request instruments
    /// (<see cref="PerRequestInstruments"/>; <c>METRICS_HTTP_REQUESTS=on</c>).</param>
    public PrometheusMeterExporter(CollectorRegistry registry, ILogger logger, bool perRequest = false)
    {
        ArgumentNullException.ThrowIfNull(registry);
        _perRequest = perRequest;
        _factory = Metrics.WithCustomRegistry(registry);

        // No exemplars: /metrics is served in Prometheus' text format, which has none, and prometheus-net's
        // default provider reads the trace context on every Inc/Observe (≈1 % of a leader's CPU under load).
        _factory.ExemplarBehavior = new ExemplarBehavior { DefaultExemplarProvider = (_, _) => Exemplar.None };
        _logger = logger;
        _listener.InstrumentPublished = OnInstrumentPublished;
        _listener.SetMeasurementEventCallback<byte>(OnMeasurement);
        _listener.SetMeasurementEventCallback<short>(OnMeasurement);
        _listener.SetMeasurementEventCallback<int>(OnMeasurement);
        _listener.SetMeasurementEventCallback<long>(OnMeasurement);
        _listener.SetMeasurementEventCallback<float>(OnMeasurement);
        _listener.SetMeasurementEventCallback<double>(OnMeasurement);
        _listener.SetMeasurementEventCallback<decimal>(OnMeasurement);
        _listener.Start();
        registry.AddBeforeCollectCallback(Collect);
    }

    public void Dispose()
    {
        _disposed = true;
        _listener.Dispose();
    }

    /// <summary>Before each scrape: read the observable instruments, then drop the label sets they no
    /// longer report.</summary>
    private void Collect()
    {
        if (_disposed)
        {
            return;
        }

        lock (_collectLock)
        {
            var round = Interlocked.Increment(ref _round);
            try
            {
                _listener.RecordObservableInstruments();
            }
            catch (AggregateException e)
            {
                // A callback failed (e.g. the node is stopping): the other instruments were still read.
                LogObserveFailed(_logger, e.InnerExceptions.Count, e.InnerExceptions[0].Message);
            }

            foreach (var series in _series.Values)
            {
                series.RemoveUnreported(round);
            }
        }
    }

    private void OnInstrumentPublished(Instrument instrument, MeterListener listener)
    {
        if (!_perRequest && IsPerRequest(instrument))
        {
            return; // not enabled, so not measured (PrometheusMeterExporter.PerRequest.cs)
        }

        var name = ExportName(instrument, out var problem);
        if (name is null)
        {
            LogNotExported(_logger, instrument.Meter.Name, instrument.Name, problem ?? "unsupported");
            return;
        }

        var series = _series.GetOrAdd(name, n => new ExportedSeries(n, instrument, _factory));
        if (!series.Accepts(instrument))
        {
            LogNotExported(_logger, instrument.Meter.Name, instrument.Name, $"{name} is already exported from an instrument of another kind");
            return;
        }

        if (EtcdAlias(name) is { } alias)
        {
            series.Alias = _series.GetOrAdd(alias, n => new ExportedSeries(n, instrument, _factory));
        }

        listener.EnableMeasurementEvents(instrument, series);
    }

    private void OnMeasurement<T>(Instrument instrument, T measurement, ReadOnlySpan<KeyValuePair<string, object?>> tags, object? state)
        where T : struct
    {
        if (state is not ExportedSeries series)
        {
            return;
        }

        // Never throw into the instrument: an exception here would disable it for every listener.
        try
        {
            for (var target = series; target is not null; target = target.Alias)
            {
                if (!target.Record(ToDouble(measurement), tags, instrument.Tags, Interlocked.Read(ref _round)) && target.ClaimMismatchReport())
                {
                    LogLabelMismatch(_logger, target.Name, string.Join(",", target.LabelNames ?? []));
                }
            }
        }
        catch (Exception e)
        {
            if (series.ClaimMismatchReport())
            {
                LogRecordFailed(_logger, series.Name, e.Message);
            }
        }
    }

    /// <summary>Without boxing: each branch is a JIT-time constant for the value type T.</summary>
    private static double ToDouble<T>(T value)
        where T : struct =>
        typeof(T) == typeof(long) ? Unsafe.As<T, long>(ref value)
        : typeof(T) == typeof(double) ? Unsafe.As<T, double>(ref value)
        : typeof(T) == typeof(int) ? Unsafe.As<T, int>(ref value)
        : typeof(T) == typeof(float) ? Unsafe.As<T, float>(ref value)
        : typeof(T) == typeof(short) ? Unsafe.As<T, short>(ref value)
        : typeof(T) == typeof(byte) ? Unsafe.As<T, byte>(ref value)
        : typeof(T) == typeof(decimal) ? (double)Unsafe.As<T, decimal>(ref value)
        : 0;

    [LoggerMessage(Level = LogLevel.Warning, Message = "metrics: instrument {Meter}/{Instrument} is not exported: {Problem}")]
    private static partial void LogNotExported(ILogger logger, string meter, string instrument, string problem);

    [LoggerMessage(Level = LogLevel.Warning, Message = "metrics: {Series} dropped a measurement whose tags differ from its labels ({Labels}); reported once")]
    private static partial void LogLabelMismatch(ILogger logger, string series, string labels);

    [LoggerMessage(Level = LogLevel.Warning, Message = "metrics: {Series} could not record a measurement: {Message}; reported once")]
    private static partial void LogRecordFailed(ILogger logger, string series, string message);

    [LoggerMessage(Level = LogLevel.Debug, Message = "metrics: {Count} observable instrument(s) failed to report: {First}")]
    private static partial void LogObserveFailed(ILogger logger, int count, string first);
}
