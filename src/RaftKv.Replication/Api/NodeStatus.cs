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

    /// <summary>Replication lag per follower id (leader only): leader's last index − follower's match index.</summary>
    public IReadOnlyDictionary<long, long> FollowerLag { get; init; } = new Dictionary<long, long>();
    public IReadOnlyList<MemberInfo> Members { get; init; } = [];
}
