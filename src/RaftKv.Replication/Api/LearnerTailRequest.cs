namespace RaftKv.Replication.Api;

/// <summary>A learner asking the leader for the committed log (<see cref="ILearnerPeers.TailAsync"/>).</summary>
/// <param name="NodeId">The learner's NODE_ID.</param>
/// <param name="RaftAddress">Its Raft address: its identity in the replicated learner list.</param>
/// <param name="GrpcAddress">Its gRPC address (published in the list).</param>
/// <param name="HttpAddress">Its HTTP address (published in the list).</param>
/// <param name="FromIndex">The first index it needs (its last committed index + 1).</param>
/// <param name="PullCredential">A voting member pulling a snapshot (KvNode.SnapshotPull.cs): the credential of the leader's
/// snapshot reference, hex (it authenticates the call when auth is on); null for a learner.</param>
public sealed record LearnerTailRequest(long NodeId, string RaftAddress, string GrpcAddress, string HttpAddress, long FromIndex, string? PullCredential = null);
