using System.Diagnostics.Metrics;

namespace RaftKv.Replication;

/// <summary>Replication metrics (Meter "RaftKv.Replication"), exported by the server via prometheus-net.</summary>
internal sealed class Metrics : IDisposable
{
    public const string MeterName = "RaftKv.Replication";

    private readonly Meter _meter;

    public Metrics(KvNode node)
    {
        _meter = new Meter(MeterName);
        var tags = new KeyValuePair<string, object?>("node_id", node.NodeId);
        _meter.CreateObservableGauge("raftkv_raft_term", () => new Measurement<long>(node.GetStatus().Term, tags), description: "Current Raft term");
        _meter.CreateObservableGauge("raftkv_raft_commit_index", () => new Measurement<long>(node.GetStatus().CommitIndex, tags), description: "Raft commit index");
        _meter.CreateObservableGauge("raftkv_raft_applied_index", () => new Measurement<long>(node.GetStatus().AppliedIndex, tags), description: "Last applied index");
        _meter.CreateObservableGauge("raftkv_raft_durable_index", () => new Measurement<long>(node.GetStatus().DurableIndex, tags), description: "Highest index durable in SSTables");
        _meter.CreateObservableGauge("raftkv_raft_is_leader", () => new Measurement<int>(node.GetStatus().Role == "leader" ? 1 : 0, tags), description: "1 if this node is the leader");
        _meter.CreateObservableGauge("raftkv_raft_leader_id", () => new Measurement<long>(node.GetStatus().LeaderId ?? 0, tags), description: "Leader node id (0 = none)");
        _meter.CreateObservableCounter("raftkv_raft_snapshots_taken", () => new Measurement<long>(node.GetStatus().SnapshotsTaken, tags), description: "Snapshots (checkpoints) taken");
        _meter.CreateObservableCounter("raftkv_raft_snapshots_installed", () => new Measurement<long>(node.GetStatus().SnapshotsInstalled, tags), description: "Snapshots received and installed");
        _meter.CreateObservableCounter("raftkv_raft_follower_fsync_waits", () => new Measurement<long>(node.FollowerFlushWaits, tags), description: "AppendEntries answered only after the follower fsynced its log");
        _meter.CreateObservableCounter("raftkv_raft_log_flushes", () => new Measurement<long>(node.LogFlushes, tags), description: "Raft log flushes (one write + fsync, covering every entry queued before it)");
        _meter.CreateObservableCounter("raftkv_raft_apply_stalls", () => new Measurement<long>(node.ApplyStalls, tags), description: "Entries whose apply waited for an unreachable object store");
        Proposals = _meter.CreateCounter<long>("raftkv_raft_proposals", description: "Proposed commands by outcome");
    }

    public Counter<long> Proposals { get; }

    public void Dispose() => _meter.Dispose();
}
