namespace RaftKv.Replication.Api;

/// <summary>
/// How the corruption check reaches other members: implemented by the server over its internal gRPC
/// calls (<c>raftkv.v1.Cluster/StateHash</c>, <c>/CorruptionCheck</c>), in process by tests. Replication
/// itself knows no gRPC; without an implementation the leader compares only its own hash.
/// </summary>
public interface IStateHashPeers
{
    /// <summary>Asks <paramref name="member"/> for its <see cref="IKvNode.GetStateHashAsync"/> at
    /// <paramref name="index"/>. Any failure (unreachable, no hash there) throws; the check counts the
    /// member as unanswered, never as corrupt.</summary>
    Task<StateHash> GetStateHashAsync(MemberInfo member, long index, CancellationToken cancellationToken);

    /// <summary>Asks the leader to run a check now (<see cref="IKvNode.CheckCorruptionAsync"/>); used by
    /// a follower's start-up check.</summary>
    Task<CorruptionCheckResult> RequestCheckAsync(MemberInfo leader, CancellationToken cancellationToken);

    /// <summary>Asks the leader to raise <paramref name="alarm"/> for <paramref name="memberId"/>
    /// (<see cref="IKvNode.RaiseAlarmAsync"/>); used by a follower out of space (NOSPACE).</summary>
    Task RaiseAlarmAsync(MemberInfo leader, AlarmType alarm, long memberId, CancellationToken cancellationToken);
}
