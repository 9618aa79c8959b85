namespace RaftKv.Replication.Api;

/// <summary>This node's corruption-check counters (the checks it ran as leader) and its last result.</summary>
/// <param name="Interval">Period of the leader's checks (<see cref="TimeSpan.Zero"/>: periodic checks are off).</param>
/// <param name="Checks">Checks run to an outcome, by outcome (<see cref="CorruptionCheckResult.Ok"/>, …).</param>
/// <param name="Failures">Checks that could not run (no quorum, lost leadership, local error).</param>
/// <param name="Last">The last check this node ran, if any.</param>
public sealed record CorruptionCheckStatus(TimeSpan Interval, IReadOnlyDictionary<string, long> Checks, long Failures, CorruptionCheckResult? Last);
