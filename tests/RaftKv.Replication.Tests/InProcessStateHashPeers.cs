using RaftKv.Replication.Api;

namespace RaftKv.Replication.Tests;

/// <summary>The corruption check's peer calls inside one process: a member is reached through the
/// <see cref="TestCluster"/>'s running node with its id (the server does the same over gRPC).</summary>
internal sealed class InProcessStateHashPeers(TestCluster cluster) : IStateHashPeers, ILeadershipPeers, ILearnerPeers, ILeaderReadIndex, IMembershipPeers, ISimpleTokenPeers
{
    public Task<long> AssignSimpleTokenAsync(MemberInfo leader, SimpleTokenGrant grant, CancellationToken cancellationToken)
        => Node(leader).ServeSimpleTokenAsync(grant, cancellationToken);

    public IAsyncEnumerable<LearnerTailItem> TailAsync(MemberInfo member, LearnerTailRequest request, CancellationToken cancellationToken)
        => Node(member).TailLogAsync(request, cancellationToken);

    public Task<StateHash> GetStateHashAsync(MemberInfo member, long index, CancellationToken cancellationToken)
        => Node(member).GetStateHashAsync(index, cancellationToken);

    public Task<CorruptionCheckResult> RequestCheckAsync(MemberInfo leader, CancellationToken cancellationToken)
        => Node(leader).CheckCorruptionAsync(cancellationToken);

    public Task<long> HoldElectionsAsync(MemberInfo member, TimeSpan duration, CancellationToken cancellationToken)
        => Node(member).HoldElectionsAsync(duration, cancellationToken);

    public Task RaiseAlarmAsync(MemberInfo leader, AlarmType alarm, long memberId, CancellationToken cancellationToken)
        => Node(leader).RaiseAlarmAsync(alarm, memberId, cancellationToken);

    public Task<LeaderReadIndex> ReadIndexAsync(MemberInfo leader, long term, long commitIndex, CancellationToken cancellationToken)
        => Node(leader).ServeReadIndexAsync(term, commitIndex, cancellationToken);

    public Task<IReadOnlyList<MemberInfo>> MembersAsync(MemberInfo member, CancellationToken cancellationToken)
        => Task.FromResult<IReadOnlyList<MemberInfo>>(Node(member).GetStatus().Members);

    private KvNode Node(MemberInfo member)
        => cluster.Nodes.GetValueOrDefault(member.Id) ?? throw new UnavailableException($"member {member.Id} is not running");
}
