namespace RaftKv.Replication.Api;

/// <summary>A put with ignore_value or ignore_lease names a key that does not exist (etcd: "etcdserver: key not
/// found", INVALID_ARGUMENT). Decided at apply (deterministic): the whole transaction applies nothing.</summary>
public sealed class KeyNotFoundForIgnoreException(byte[] key)
    : ArgumentException("key not found")
{
    public byte[] Key { get; } = key;
}
