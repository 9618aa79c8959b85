namespace RaftKv.Replication.Api;

/// <summary>
/// How a follower asks the current leader for a read index (etcd's ReadIndex; Raft thesis §6.4, "read index via the
/// leader"): implemented by the server over the internal gRPC call <c>raftkv.v1.Cluster/ReadIndex</c>, in process by
/// tests. Replication itself knows no gRPC; without an implementation a follower's linearizable read runs DotNext's
/// read barrier (<c>ApplyReadBarrierAsync</c>) as before.
/// </summary>
/// <remarks>
/// <para>Safety contract. The member answering runs <see cref="IKvNode.ServeReadIndexAsync"/>, which answers only
/// while it leads in <c>term</c> and only with an index that is at least the commit index of every entry committed
/// before the call reached it: its commit index read while its read lease is valid (no other leader can exist then,
/// <c>KvNode.ReadLease.cs</c>), or read after a read-index quorum round it started after the call arrived. Any other
/// state (not the leader, another term, leadership lost during the round, the round failed) is a refusal, never an
/// answer. The follower sends the call only after its read began, so the index covers every write acknowledged
/// before the read; it then waits until it has applied the index and an entry of its current term (Raft §8: a new
/// leader's commit index is trustworthy only once an entry of its term committed), and checks that the answer's
/// <see cref="LeaderReadIndex.Term"/> is the term it asked for: an answer from a leader of an older term proves
/// nothing.</para>
/// <para>Any failure (unreachable, no such call on an older release, refusal, deadline) throws; the caller then
/// falls back to DotNext's barrier.</para>
/// </remarks>
public interface ILeaderReadIndex
{
    /// <summary>Asks <paramref name="leader"/> for a read index, valid only if it still leads in
    /// <paramref name="term"/>; <paramref name="commitIndex"/> is the asking follower's commit index (a hint: the
    /// leader replicates at once when the read index is above it). Throws on any failure or refusal.</summary>
    Task<LeaderReadIndex> ReadIndexAsync(MemberInfo leader, long term, long commitIndex, CancellationToken cancellationToken);
}
