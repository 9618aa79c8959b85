namespace RaftKv.Replication.Api;

/// <summary>A transaction has more ops in one branch than <c>KvNodeOptions.MaxTxnOps</c> (etcd: "etcdserver:
/// too many operations in txn request", INVALID_ARGUMENT). Refused before anything is proposed.</summary>
public sealed class TooManyTxnOpsException(int count, int max)
    : ArgumentException($"too many operations in txn request ({count}; the limit is {max})")
{
    public int Count { get; } = count;

    public int Max { get; } = max;
}
