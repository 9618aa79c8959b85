namespace RaftKv.Replication.Api;

/// <summary>
/// How a follower has the leader assign a simple token (<see cref="KvNode.AssignSimpleTokenAsync"/>): implemented by
/// the server over its internal <c>raftkv.v1.Cluster/AssignSimpleToken</c> call (with this member's token), in process
/// by tests. Replication itself knows no gRPC.
/// </summary>
public interface ISimpleTokenPeers
{
    /// <summary>Asks <paramref name="leader"/> to propose <paramref name="grant"/> (<see cref="KvNode.ServeSimpleTokenAsync"/>);
    /// answers the leader's index of the entry once it applied it. Refusals come back as the leader's typed errors
    /// (<see cref="NotLeaderException"/>, <see cref="AuthException"/>), transport failures as
    /// <see cref="UnavailableException"/>.</summary>
    Task<long> AssignSimpleTokenAsync(MemberInfo leader, SimpleTokenGrant grant, CancellationToken cancellationToken);
}
