namespace RaftKv.Replication.Api;

/// <summary>
/// A delete with an empty key and a prefix (or an unbounded range) would delete every key, and the
/// caller did not state that intent explicitly (<see cref="KvOp.DeleteAll"/>; HTTP <c>?all=true</c>,
/// gRPC <c>all_keys</c>, <c>kvctl delete --all</c>). HTTP 400, gRPC INVALID_ARGUMENT.
/// </summary>
public sealed class WholeKeyspaceDeleteException()
    : ArgumentException("an empty key with prefix would delete every key; state that intent explicitly (HTTP ?all=true, gRPC all_keys, kvctl delete --all)");
