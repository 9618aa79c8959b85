namespace RaftKv.Replication.Api;

/// <summary>etcd's lease bounds.</summary>
public static class LeaseLimits
{
    /// <summary>The longest TTL a lease may be granted (etcd's <c>MaxLeaseTTL</c>, 9,000,000,000 s).</summary>
    public const long MaxTtlSeconds = 9_000_000_000;
}
