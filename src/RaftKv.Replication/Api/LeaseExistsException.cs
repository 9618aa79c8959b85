namespace RaftKv.Replication.Api;

/// <summary>A grant named an explicit lease id that is already granted (etcd: "etcdserver: lease
/// already exists", FAILED_PRECONDITION). Decided at apply, so every replica agrees.</summary>
public sealed class LeaseExistsException(long leaseId)
    : ArgumentException($"lease {leaseId} already exists")
{
    public long LeaseId { get; } = leaseId;
}
