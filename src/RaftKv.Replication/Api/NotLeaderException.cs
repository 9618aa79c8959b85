namespace RaftKv.Replication.Api;

/// <summary>This node is not the leader. <see cref="Leader"/> is the known leader, if any.
/// The write was not proposed here (HTTP forwards it; gRPC answers FAILED_PRECONDITION).</summary>
public sealed class NotLeaderException : Exception
{
    public NotLeaderException(MemberInfo? leader)
        : base(leader is null ? "no leader is known" : $"not the leader; leader is node {leader.Id} at {leader.GrpcAddress}")
        => Leader = leader;

    public MemberInfo? Leader { get; }
}
