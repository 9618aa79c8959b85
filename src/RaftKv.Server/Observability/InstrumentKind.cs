namespace RaftKv.Server.Observability;

/// <summary>What an instrument's measurements mean, which decides its Prometheus type
/// (<see cref="PrometheusMeterExporter"/>).</summary>
internal enum InstrumentKind
{
    /// <summary>Not exported (an instrument type this exporter does not know).</summary>
    Unsupported,

    /// <summary><c>Counter&lt;T&gt;</c>: each measurement is an increment → Prometheus counter.</summary>
    Counter,

    /// <summary><c>ObservableCounter&lt;T&gt;</c>: each observation is the running total → Prometheus counter.</summary>
    ObservableCounter,

    /// <summary><c>UpDownCounter&lt;T&gt;</c>: each measurement is an increment, may be negative → gauge.</summary>
    UpDownCounter,

    /// <summary><c>Gauge&lt;T&gt;</c>: each measurement is the current value → gauge.</summary>
    Gauge,

    /// <summary><c>ObservableGauge&lt;T&gt;</c> and <c>ObservableUpDownCounter&lt;T&gt;</c>: each observation is the current value → gauge.</summary>
    ObservableGauge,

    /// <summary><c>Histogram&lt;T&gt;</c> → Prometheus histogram.</summary>
    Histogram,
}
