using Prometheus;
using RaftKv.Replication.Api;

namespace RaftKv.Server.Observability;

/// <summary>
/// The corruption check's series, sampled from <see cref="IKvNode.Alarms"/> and
/// <see cref="IKvNode.CorruptionCheck"/> before every scrape: <c>raftkv_corruption_alarm</c> (1 while a
/// CORRUPT alarm is active in the cluster — alarms are replicated, so every member shows it) and
/// <c>raftkv_corruption_checks_total{outcome}</c> (checks this node ran as leader, by outcome:
/// ok, mismatch, incomplete, skipped, failed).
/// </summary>
public static class CorruptionMetrics
{
    private static readonly string[] Outcomes = [CorruptionCheckResult.Ok, CorruptionCheckResult.Mismatch, CorruptionCheckResult.Incomplete, CorruptionCheckResult.Skipped, "failed"];

    private static readonly Gauge Alarm = Prometheus.Metrics.CreateGauge("raftkv_corruption_alarm", "1 while a CORRUPT alarm is active (a member's state differs from the others'; see /health)");

    private static readonly Counter Checks = Prometheus.Metrics.CreateCounter(
        "raftkv_corruption_checks_total", "Corruption checks this node ran as leader, by outcome (failed = could not run: no quorum, lost leadership)", new CounterConfiguration { LabelNames = ["outcome"] });

    public static void Register(IKvNode node)
    {
        foreach (var outcome in Outcomes)
        {
            Checks.WithLabels(outcome); // every outcome is exported from the start, at 0
        }

        Prometheus.Metrics.DefaultRegistry.AddBeforeCollectCallback(() =>
        {
            Alarm.Set(node.Alarms.Any(a => a.Alarm == AlarmType.Corrupt) ? 1 : 0);
            var status = node.CorruptionCheck;
            foreach (var (outcome, count) in status.Checks)
            {
                Checks.WithLabels(outcome).IncTo(count);
            }

            Checks.WithLabels("failed").IncTo(status.Failures);
        });
    }
}
