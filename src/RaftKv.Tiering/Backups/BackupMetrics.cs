using System.Diagnostics.Metrics;

namespace RaftKv.Tiering.Backups;

/// <summary>
/// The backup instruments (Meter <see cref="MeterName"/>), owned by the <see cref="BackupScheduler"/>; names
/// are the exported Prometheus names (docs/architecture.md, "Metrics"). The age and size describe the newest
/// backup this node knows (every node reads the bucket), so they are meaningful on every member.
/// </summary>
internal sealed class BackupMetrics : IDisposable
{
    public const string MeterName = "RaftKv.Tiering.Backup";

    /// <summary>0.1 s to 2 h: a backup of an unchanged store is a checkpoint and a manifest; a first one uploads everything.</summary>
    private static readonly double[] DurationBuckets = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200];

    private readonly Meter _meter = new(MeterName);

    public BackupMetrics(Func<BackupStats> stats)
    {
        _meter.CreateObservableGauge("raftkv_backup_age_seconds", () => stats().AgeSeconds is { } age ? [new Measurement<double>(age)] : Array.Empty<Measurement<double>>(), unit: "s", description: "Age of the newest complete backup");
        _meter.CreateObservableGauge("raftkv_backup_size_bytes", () => stats().Newest is { } n ? [new Measurement<long>(n.DataBytes)] : Array.Empty<Measurement<long>>(), unit: "By", description: "Size of the newest backup (what a restore downloads)");
        _meter.CreateObservableGauge("raftkv_backup_retained", () => stats().Retained, description: "Backups kept after this node's last retention pass");
        Taken = _meter.CreateCounter<long>("raftkv_backups_total", description: "Backups this node took");
        Failures = _meter.CreateCounter<long>("raftkv_backup_failures_total", description: "Backup passes that failed");
        Uploaded = _meter.CreateCounter<long>("raftkv_backup_uploaded_bytes_total", unit: "By", description: "Bytes uploaded by backups (tables earlier backups lacked, and checkpoints)");
        Duration = _meter.CreateHistogram<double>("raftkv_backup_duration_seconds", unit: "s", description: "Duration of successful backups (checkpoint, upload, manifest)", tags: null, advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = DurationBuckets });
    }

    public Counter<long> Taken { get; }

    public Counter<long> Failures { get; }

    public Counter<long> Uploaded { get; }

    public Histogram<double> Duration { get; }

    public void Dispose() => _meter.Dispose();
}
