namespace RaftKv.Replication.Api;

/// <summary>MoveLeader named no voting member of the cluster (etcd: "etcdserver: bad leader transferee",
/// FAILED_PRECONDITION).</summary>
public sealed class BadLeaderTransfereeException(long targetId)
    : ArgumentException($"member {targetId} is not a voting member of this cluster")
{
    public long TargetId { get; } = targetId;
}
