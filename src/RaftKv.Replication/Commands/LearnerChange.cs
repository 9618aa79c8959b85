namespace RaftKv.Replication.Commands;

/// <summary>The payload of a <see cref="CommandKind.Learner"/> command (codec: <see cref="CommandCodec"/>).</summary>
/// <param name="Change">What happens to the learner.</param>
/// <param name="Id">The learner's node id (NODE_ID); a provisional id (≥ 2^62, from its Raft address) until it has connected and said it.</param>
/// <param name="RaftAddress">host:port of its Raft transport: the learner's identity in the list.</param>
/// <param name="GrpcAddress">host:port of its gRPC endpoint, empty while unknown.</param>
/// <param name="HttpAddress">host:port of its HTTP API, empty while unknown.</param>
public sealed record LearnerChange(LearnerChangeKind Change, long Id, string RaftAddress, string GrpcAddress, string HttpAddress);
