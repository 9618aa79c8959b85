namespace RaftKv.Replication.Api;

/// <summary>A put, revoke, keep-alive or TimeToLive names a lease that is not granted (etcd: "etcdserver:
/// requested lease not found", NOT_FOUND). For a put it is decided at apply (<c>KvState.CheckLease</c>), so
/// every replica agrees and nothing of the transaction is applied.</summary>
public sealed class LeaseNotFoundException(long leaseId)
    : ArgumentException($"lease {leaseId} not found")
{
    public long LeaseId { get; } = leaseId;
}
