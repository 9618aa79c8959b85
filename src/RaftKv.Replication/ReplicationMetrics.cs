using System.Diagnostics.Metrics;
using RaftKv.Storage;

namespace RaftKv.Replication;

/// <summary>
/// The node's instruments (Meter <see cref="MeterName"/>): its Raft position, log and snapshot
/// counters and proposals, observed from <see cref="KvNode.GetStatus"/> and the node's counters; it also
/// owns the <see cref="StorageMetrics"/> of the node's store. Instrument names are the exported
/// Prometheus names (<c>raftkv_&lt;subsystem&gt;_&lt;name&gt;[_unit][_total]</c>; the Raft position keeps its
/// older documented names <c>raftkv_term</c>, <c>raftkv_commit_index</c>, <c>raftkv_applied_index</c>,
/// <c>raftkv_is_leader</c>). The server's exporter publishes them as named; this assembly knows no
/// exporter (docs/architecture.md, "Metrics"). One node per process is assumed (no node label:
/// the scrape target identifies the node).
/// </summary>
internal sealed class ReplicationMetrics : IDisposable
{
    public const string MeterName = "RaftKv.Replication";

    private readonly Meter _meter = new(MeterName);
    private readonly StorageMetrics _storage;

    public ReplicationMetrics(KvNode node)
    {
        _meter.CreateObservableGauge("raftkv_term", () => node.GetStatus().Term, description: "Raft term");
        _meter.CreateObservableGauge("raftkv_commit_index", () => node.GetStatus().CommitIndex, description: "Raft commit index");
        _meter.CreateObservableGauge("raftkv_applied_index", () => node.GetStatus().AppliedIndex, description: "Raft applied index (last entry applied to the state machine)");
        _meter.CreateObservableGauge("raftkv_is_leader", () => node.GetStatus().Role == "leader" ? 1 : 0, description: "1 when this node is the leader");
        _meter.CreateObservableGauge("raftkv_raft_durable_index", () => node.GetStatus().DurableIndex, description: "Highest index durable in SSTables");
        _meter.CreateObservableGauge("raftkv_raft_leader_id", () => node.GetStatus().LeaderId ?? 0, description: "Leader node id (0 = none known)");
        _meter.CreateObservableCounter("raftkv_raft_snapshots_taken_total", () => node.GetStatus().SnapshotsTaken, description: "Snapshots (checkpoints) taken");
        _meter.CreateObservableCounter("raftkv_raft_snapshots_installed_total", () => node.GetStatus().SnapshotsInstalled, description: "Snapshots received and installed");
        _meter.CreateObservableCounter("raftkv_raft_snapshot_references_total", () => node.SnapshotReferencesReached, description: "Snapshot references this follower answered after pulling the leader's snapshot and entries (SNAPSHOT_PULL_ABOVE_BYTES)");
        _meter.CreateObservableCounter("raftkv_raft_snapshots_pulled_total", () => node.PulledSnapshotsInstalled, description: "Snapshots this member pulled from the leader's tail stream and installed (SNAPSHOT_PULL_ABOVE_BYTES)");
        _meter.CreateObservableCounter("raftkv_raft_follower_fsync_waits_total", () => node.FollowerFlushWaits, description: "AppendEntries answered only after the follower fsynced its log");
        _meter.CreateObservableCounter("raftkv_raft_slow_member_rounds_total", () => node.SkippedReplicationRounds, description: "Replication rounds the leader skipped for a follower whose queue of unsent rounds was full (it gets their entries with its next round; DotNext's 'too far behind the leader')");
        _meter.CreateObservableCounter("raftkv_raft_idle_ticks_total", () => node.TicksProposed, description: "Tick entries the idle leader proposed to move the logical clock (only while a key written with a TTL may be live, until an entry of its term is applied, or for a minute after a snapshot was sent)");
        _meter.CreateObservableCounter("raftkv_raft_log_flushes_total", () => node.LogFlushes, description: "Raft log flushes (one write + fsync, covering every entry queued before it)");
        _meter.CreateObservableCounter("raftkv_raft_value_compare_conflicts_total", () => node.ValueCompareConflicts, description: "Transactions whose leader-resolved value compare went stale before apply (re-proposed)");
        _meter.CreateObservableCounter("raftkv_read_lease_reads_total", () => node.LeaseReads, description: "Linearizable reads the leader answered on its read lease, without a quorum round (READ_LEASE)");
        _meter.CreateObservableCounter("raftkv_read_quorum_rounds_total", () => node.QuorumReads, description: "Read-index quorum rounds run for linearizable reads and read-lease renewals");
        _meter.CreateObservableCounter("raftkv_raft_leader_changes_total", () => node.GetStatus().LeaderChangesSeen, description: "New leaders this node saw elected since it started");
        _meter.CreateObservableGauge("raftkv_raft_proposals_pending", () => node.GetStatus().ProposalsPending, description: "Proposals appended by this node (as leader) and not yet applied or failed");
        _meter.CreateObservableCounter("raftkv_read_follower_index_reads_total", () => node.FollowerReadIndexReads, description: "Linearizable reads this follower served with a read index from the leader (Cluster/ReadIndex)");
        _meter.CreateObservableCounter("raftkv_read_follower_index_rounds_total", () => node.FollowerReadIndexRounds, description: "Read-index requests this follower sent to the leader, one per batch of concurrent reads");
        _meter.CreateObservableCounter("raftkv_read_follower_index_fallbacks_total", () => node.FollowerReadIndexFallbacks, description: "Follower linearizable reads whose read-index request failed or was refused (they ran DotNext's read barrier)");
        _meter.CreateObservableCounter("raftkv_read_index_served_total", () => node.ReadIndexServed, description: "Read-index requests this node answered as leader");
        Proposals = _meter.CreateCounter<long>("raftkv_raft_proposals_total", description: "Proposed commands by outcome (ok, not_leader, no_space, lost_leadership, timeout, unavailable)");
        _storage = new StorageMetrics(node.GetStoreStats);
    }

    /// <summary>Tag: <c>outcome</c>.</summary>
    public Counter<long> Proposals { get; }

    public void Dispose()
    {
        _storage.Dispose();
        _meter.Dispose();
    }
}
