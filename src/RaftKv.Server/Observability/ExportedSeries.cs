using System.Diagnostics.Metrics;
using System.Globalization;
using Prometheus;

namespace RaftKv.Server.Observability;

/// <summary>
/// One exported Prometheus series family of <see cref="PrometheusMeterExporter"/>: the instrument kind
/// that feeds it, its prometheus-net collector (created with the first measurement, whose tag keys fix
/// the label names) and, for observable instruments, the round in which each label set was last
/// reported. Thread-safe: measurements arrive on any thread.
/// </summary>
internal sealed class ExportedSeries
{
    private readonly IMetricFactory _factory;
    private readonly InstrumentKind _kind;
    private readonly string _help;
    private readonly double[]? _buckets;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, (string[] Values, long Round)> _reported = new(StringComparer.Ordinal);
    private volatile Collector? _collector;
    private int _mismatchReported;

    public ExportedSeries(string name, Instrument instrument, IMetricFactory factory)
    {
        Name = name;
        _factory = factory;
        _kind = InstrumentKinds.Of(instrument);
        _help = Help(instrument);
        _buckets = InstrumentKinds.BucketAdvice(instrument);
    }

    public string Name { get; }

    /// <summary>A second series every measurement of this one also feeds (its etcd name), or null. Set once,
    /// before measurements are enabled.</summary>
    public ExportedSeries? Alias { get; set; }

    /// <summary>The label names, once the first measurement has fixed them.</summary>
    public string[]? LabelNames { get; private set; }

    private bool Observable => _kind is InstrumentKind.ObservableCounter or InstrumentKind.ObservableGauge;

    /// <summary>Each measurement is an increment (or an observation), so measurements of several tag sets may be summed into one series.</summary>
    private bool Additive => _kind is InstrumentKind.Counter or InstrumentKind.UpDownCounter or InstrumentKind.Histogram;

    /// <summary>True when <paramref name="instrument"/> may feed this series (same kind).</summary>
    public bool Accepts(Instrument instrument) => InstrumentKinds.Of(instrument) == _kind;

    /// <summary>True the first time it is called: problems are logged once per series.</summary>
    public bool ClaimMismatchReport() => Interlocked.Exchange(ref _mismatchReported, 1) == 0;

    /// <summary>Records one measurement; false (dropped) when a measurement of a value (not an increment) has a tag that is
    /// not one of the labels.</summary>
    public bool Record(double value, ReadOnlySpan<KeyValuePair<string, object?>> tags, IEnumerable<KeyValuePair<string, object?>>? instrumentTags, long round)
    {
        var constant = instrumentTags as IReadOnlyCollection<KeyValuePair<string, object?>> ?? instrumentTags?.ToList();
        var collector = _collector ?? Create(tags, constant);

        // A label the measurement does not carry is empty (Prometheus: the same as absent). A tag that is not
        // a label: an increment (Counter, UpDownCounter, Histogram) is added to the series of its other tags —
        // summing over a dimension the series does not have is what a query over it would do (DotNext's
        // AsyncLock counter tags some locks with more keys than others); a value (gauges, observable counters)
        // would overwrite another's, so it is dropped.
        var names = LabelNames!;
        var values = names.Length == 0 ? [] : new string[names.Length];
        var matched = 0;
        for (var i = 0; i < names.Length; i++)
        {
            if (Find(names[i], tags, constant) is { } v)
            {
                values[i] = v;
                matched++;
            }
            else
            {
                values[i] = string.Empty;
            }
        }

        if (matched != tags.Length + (constant?.Count ?? 0) && !Additive)
        {
            return false;
        }

        switch (collector)
        {
            case Counter counter when _kind == InstrumentKind.Counter:
                if (value > 0)
                {
                    (values.Length == 0 ? (ICounter)counter : counter.WithLabels(values)).Inc(value);
                }

                break;
            case Counter counter:
                (values.Length == 0 ? (ICounter)counter : counter.WithLabels(values)).IncTo(value);
                break;
            case Gauge gauge when _kind == InstrumentKind.UpDownCounter:
                (values.Length == 0 ? (IGauge)gauge : gauge.WithLabels(values)).Inc(value);
                break;
            case Gauge gauge:
                (values.Length == 0 ? (IGauge)gauge : gauge.WithLabels(values)).Set(value);
                break;
            case Histogram histogram:
                (values.Length == 0 ? (IHistogram)histogram : histogram.WithLabels(values)).Observe(value);
                break;
        }

        if (Observable && values.Length > 0)
        {
            lock (_lock)
            {
                _reported[string.Join('\u0001', values)] = (values, round);
            }
        }

        return true;
    }

    /// <summary>Removes the label sets an observable instrument did not report in <paramref name="round"/>.</summary>
    public void RemoveUnreported(long round)
    {
        if (!Observable || _collector is null)
        {
            return;
        }

        lock (_lock)
        {
            foreach (var (key, (values, last)) in _reported.ToList())
            {
                if (last != round)
                {
                    _reported.Remove(key);
                    switch (_collector)
                    {
                        case Counter c:
                            c.RemoveLabelled(values);
                            break;
                        case Gauge g:
                            g.RemoveLabelled(values);
                            break;
                    }
                }
            }
        }
    }

    private Collector Create(ReadOnlySpan<KeyValuePair<string, object?>> tags, IReadOnlyCollection<KeyValuePair<string, object?>>? constant)
    {
        var keys = new List<string>(tags.Length + (constant?.Count ?? 0));
        foreach (var t in tags)
        {
            keys.Add(PrometheusMeterExporter.LabelName(t.Key));
        }

        keys.AddRange(constant?.Select(t => PrometheusMeterExporter.LabelName(t.Key)) ?? []);
        lock (_lock)
        {
            if (_collector is not null)
            {
                return _collector;
            }

            var names = keys.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
            Collector created = _kind switch
            {
                InstrumentKind.Counter or InstrumentKind.ObservableCounter => _factory.CreateCounter(Name, _help, names),
                InstrumentKind.Histogram => _factory.CreateHistogram(Name, _help, names, new HistogramConfiguration { Buckets = _buckets }),
                _ => _factory.CreateGauge(Name, _help, names),
            };
            LabelNames = names;
            _collector = created;
            return created;
        }
    }

    private static string? Find(string label, ReadOnlySpan<KeyValuePair<string, object?>> tags, IReadOnlyCollection<KeyValuePair<string, object?>>? constant)
    {
        foreach (var t in tags)
        {
            if (t.Key == label || PrometheusMeterExporter.LabelName(t.Key) == label)
            {
                return Format(t.Value);
            }
        }

        foreach (var t in constant ?? [])
        {
            if (t.Key == label || PrometheusMeterExporter.LabelName(t.Key) == label)
            {
                return Format(t.Value);
            }
        }

        return null;
    }

    private static string Format(object? value) => value switch
    {
        null => string.Empty,
        string s => s,
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? string.Empty,
    };

    private static string Help(Instrument instrument)
    {
        var text = string.IsNullOrWhiteSpace(instrument.Description) ? instrument.Name : instrument.Description;
        return string.IsNullOrEmpty(instrument.Unit) ? text : $"{text} (unit {instrument.Unit})";
    }
}
