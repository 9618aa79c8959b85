namespace RaftKv.Replication.Api;

/// <summary>A put names a lease that is not granted (etcd: "etcdserver: requested lease not found", NOT_FOUND).
/// Leases come with the lease work; until then every id is accepted (see <c>KvNode.CheckLeases</c>).</summary>
public sealed class LeaseNotFoundException(long leaseId)
    : ArgumentException($"lease {leaseId} not found")
{
    public long LeaseId { get; } = leaseId;
}
