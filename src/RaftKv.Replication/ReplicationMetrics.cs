using System.Diagnostics.Metrics;

namespace RaftKv.Replication;

/// <summary>Replication metrics (Meter "RaftKv.Replication"), exported by the server through
/// prometheus-net's meter adapter as <c>raftkv_replication_&lt;instrument&gt;</c> (docs/architecture.md,
/// "Metrics"). The node's term, commit index, applied index and leadership are not here: the server
/// exports them once, as the documented <c>raftkv_term</c>, <c>raftkv_commit_index</c>,
/// <c>raftkv_applied_index</c> and <c>raftkv_is_leader</c>.</summary>
internal sealed class ReplicationMetrics : IDisposable
{
    public const string MeterName = "RaftKv.Replication";

    private readonly Meter _meter;

    public ReplicationMetrics(KvNode node)
    {
        _meter = new Meter(MeterName);
        var tags = new KeyValuePair<string, object?>("node_id", node.NodeId);
        _meter.CreateObservableGauge("raftkv_raft_durable_index", () => new Measurement<long>(node.GetStatus().DurableIndex, tags), description: "Highest index durable in SSTables");
        _meter.CreateObservableGauge("raftkv_raft_leader_id", () => new Measurement<long>(node.GetStatus().LeaderId ?? 0, tags), description: "Leader node id (0 = none)");
        _meter.CreateObservableCounter("raftkv_raft_snapshots_taken", () => new Measurement<long>(node.GetStatus().SnapshotsTaken, tags), description: "Snapshots (checkpoints) taken");
        _meter.CreateObservableCounter("raftkv_raft_snapshots_installed", () => new Measurement<long>(node.GetStatus().SnapshotsInstalled, tags), description: "Snapshots received and installed");
        _meter.CreateObservableCounter("raftkv_raft_follower_fsync_waits", () => new Measurement<long>(node.FollowerFlushWaits, tags), description: "AppendEntries answered only after the follower fsynced its log");
        _meter.CreateObservableCounter("raftkv_raft_log_flushes", () => new Measurement<long>(node.LogFlushes, tags), description: "Raft log flushes (one write + fsync, covering every entry queued before it)");
        _meter.CreateObservableCounter("raftkv_raft_value_compare_conflicts", () => new Measurement<long>(node.ValueCompareConflicts, tags), description: "Transactions whose leader-resolved value compare went stale before apply (re-proposed)");
        Proposals = _meter.CreateCounter<long>("raftkv_raft_proposals", description: "Proposed commands by outcome");
    }

    public Counter<long> Proposals { get; }

    public void Dispose() => _meter.Dispose();
}
