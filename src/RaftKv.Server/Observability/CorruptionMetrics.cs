using System.Diagnostics.Metrics;
using RaftKv.Replication.Api;

namespace RaftKv.Server.Observability;

/// <summary>
/// The corruption check's series on <see cref="ServerMeter"/>, observed from <see cref="IKvNode.Alarms"/>
/// and <see cref="IKvNode.CorruptionCheck"/> when a scrape comes: <c>raftkv_corruption_alarm</c> (1 while
/// a CORRUPT alarm is active in the cluster — alarms are replicated, so every member shows it) and
/// <c>raftkv_corruption_checks_total{outcome}</c> (checks this node ran as leader, by outcome: ok,
/// mismatch, incomplete, skipped, failed; every outcome is exported from the start, at 0).
/// </summary>
public static class CorruptionMetrics
{
    private static readonly string[] Outcomes = [CorruptionCheckResult.Ok, CorruptionCheckResult.Mismatch, CorruptionCheckResult.Incomplete, CorruptionCheckResult.Skipped, "failed"];

    /// <summary>Observes <paramref name="node"/> (once per process: the server hosts one node).</summary>
    public static void Register(IKvNode node)
    {
        ArgumentNullException.ThrowIfNull(node);
        ServerMeter.Meter.CreateObservableGauge(
            "raftkv_corruption_alarm",
            () => node.Alarms.Any(a => a.Alarm == AlarmType.Corrupt) ? 1 : 0,
            description: "1 while a CORRUPT alarm is active (a member's state differs from the others'; see /health)");
        ServerMeter.Meter.CreateObservableCounter(
            "raftkv_corruption_checks_total",
            () => Observe(node.CorruptionCheck),
            description: "Corruption checks this node ran as leader, by outcome (failed = could not run: no quorum, lost leadership)");
    }

    private static IEnumerable<Measurement<long>> Observe(CorruptionCheckStatus status)
    {
        foreach (var outcome in Outcomes)
        {
            var count = outcome == "failed" ? status.Failures : status.Checks.GetValueOrDefault(outcome);
            yield return new Measurement<long>(count, new KeyValuePair<string, object?>("outcome", outcome));
        }
    }
}
