namespace RaftKv.Replication.Api;

/// <summary>A point-in-time view of this node's Raft state (cheap to get).</summary>
public sealed record NodeStatus
{
    public long NodeId { get; init; }
    public long Term { get; init; }

    /// <summary>"leader", "follower", "candidate" or "standby".</summary>
    public string Role { get; init; } = "follower";
    public long? LeaderId { get; init; }
    public MemberInfo? Leader { get; init; }
    public long CommitIndex { get; init; }
    public long AppliedIndex { get; init; }
    public long DurableIndex { get; init; }
    public long LastLogIndex { get; init; }
    public long LogicalClockUnixMs { get; init; }
    public long SnapshotsTaken { get; init; }
    public long SnapshotsInstalled { get; init; }

    /// <summary>Times this node saw a new leader elected (a known leader replacing another or none), since start:
    /// etcd's <c>etcd_server_leader_changes_seen_total</c>.</summary>
    public long LeaderChangesSeen { get; init; }

    /// <summary>Proposals this node (as leader) has appended and is waiting to see applied: etcd's
    /// <c>etcd_server_proposals_pending</c>.</summary>
    public long ProposalsPending { get; init; }

    /// <summary>Proposals that ended without a known outcome (leadership lost, deadline, no quorum) since start:
    /// etcd's <c>etcd_server_proposals_failed_total</c>. Refusals before the proposal (not the leader, no space)
    /// do not count, as in etcd.</summary>
    public long ProposalsFailed { get; init; }

    /// <summary>Replication lag per follower id (leader only): leader's last index − follower's match index.</summary>
    public IReadOnlyDictionary<long, long> FollowerLag { get; init; } = new Dictionary<long, long>();
    public IReadOnlyList<MemberInfo> Members { get; init; } = [];
}
