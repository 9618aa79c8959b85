namespace RaftKv.Replication.Api;

/// <summary>
/// How a learner reaches a voter for the committed log: implemented by the server over the internal gRPC
/// server-streaming call <c>raftkv.v1.Cluster/TailLog</c>, in process by tests. Without an implementation a
/// learner does not tail (it stays empty).
/// </summary>
public interface ILearnerPeers
{
    /// <summary>Streams committed entries (and a snapshot first when needed) from <paramref name="member"/>,
    /// which must be the leader (else the call fails with <see cref="NotLeaderException"/> or an RPC error).
    /// Any failure throws while enumerating.</summary>
    IAsyncEnumerable<LearnerTailItem> TailAsync(MemberInfo member, LearnerTailRequest request, CancellationToken cancellationToken);
}
