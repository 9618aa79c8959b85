namespace RaftKv.Replication.Api;

/// <summary>
/// An atomic write: if every compare holds, apply <see cref="Success"/>, else <see cref="Failure"/>.
/// A plain put/delete is a txn with no compares. <see cref="RequestId"/> (optional, ≤ 64 chars)
/// makes a retry after a leader change exactly-once: the state machine remembers recent ids and
/// answers a duplicate with the original result instead of applying it again.
/// </summary>
public sealed record KvTxn(IReadOnlyList<KvCompare> Compares, IReadOnlyList<KvOp> Success, IReadOnlyList<KvOp> Failure, string? RequestId = null)
{
    public static KvTxn Single(KvOp op, string? requestId = null) => new([], [op], [], requestId);
}
