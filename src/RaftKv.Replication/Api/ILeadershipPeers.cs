namespace RaftKv.Replication.Api;

/// <summary>
/// How a leader moving its leadership (<see cref="IKvNode.MoveLeaderAsync"/>) reaches the other members:
/// implemented by the server over the internal gRPC call <c>raftkv.v1.Cluster/HoldElections</c>, in
/// process by tests. Replication itself knows no gRPC; without an implementation MoveLeader is refused.
/// </summary>
public interface ILeadershipPeers
{
    /// <summary>
    /// Asks <paramref name="member"/> to stand by (start no election) for <paramref name="duration"/>, or,
    /// with <see cref="TimeSpan.Zero"/>, to end such a hold now; returns the member's last Raft log index.
    /// Any failure throws.
    /// </summary>
    Task<long> HoldElectionsAsync(MemberInfo member, TimeSpan duration, CancellationToken cancellationToken);
}
