namespace RaftKv.Replication.Api;

/// <summary>
/// How a member that has heard from no leader for a while asks the others whether it is still a member
/// (KvNode.Removal.cs): implemented by the server over the native <c>raftkv.v1.Cluster/Members</c> call, in process
/// by tests. Without an implementation a member removed while it was down only learns it if a leader reaches it.
/// </summary>
public interface IMembershipPeers
{
    /// <summary>The member list as <paramref name="member"/> sees it right now (its local view, no leader round trip;
    /// <see cref="MemberInfo.IsLeader"/> marks the leader it knows). Any failure (unreachable, refused) throws; the
    /// caller counts the member as unanswered.</summary>
    Task<IReadOnlyList<MemberInfo>> MembersAsync(MemberInfo member, CancellationToken cancellationToken);
}
