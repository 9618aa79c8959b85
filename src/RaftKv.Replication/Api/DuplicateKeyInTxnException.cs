namespace RaftKv.Replication.Api;

/// <summary>Two puts/deletes of one branch of a transaction (nested txns included) touch the same key (etcd:
/// "etcdserver: duplicate key given in txn request", INVALID_ARGUMENT). Refused before anything is proposed.</summary>
public sealed class DuplicateKeyInTxnException(byte[] key)
    : ArgumentException("duplicate key given in txn request")
{
    public byte[] Key { get; } = key;
}
