using System.Diagnostics.Metrics;

namespace RaftKv.Replication.Log;

/// <summary>
/// The Raft log's timing instrument, on the Replication meter (<see cref="ReplicationMetrics.MeterName"/>):
/// <c>raftkv_raft_log_fsync_duration_seconds</c>, one observation per fsync of a log flush (the write before it
/// is not included, as in etcd's <c>etcd_disk_wal_fsync_duration_seconds</c>, which the server also exports it
/// as). Buckets are etcd's (1 ms doubling to 8.192 s), so etcd's dashboards and alerts read the same quantiles.
/// Static: every log of the process records into the same series (one node per process).
/// </summary>
internal static class RaftLogMetrics
{
    private static readonly double[] Buckets = [.. Enumerable.Range(0, 14).Select(i => 0.001 * Math.Pow(2, i))];

    private static readonly Meter Meter = new(ReplicationMetrics.MeterName);

    public static readonly Histogram<double> FsyncDuration = Meter.CreateHistogram(
        "raftkv_raft_log_fsync_duration_seconds", unit: "s", description: "Duration of the Raft log's fsyncs (one per flush)", tags: null,
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = Buckets });
}
