namespace RaftKv.Replication.Api;

/// <summary>A grant asked for a TTL above <see cref="LeaseLimits.MaxTtlSeconds"/> (etcd: "etcdserver:
/// too large lease TTL", OUT_OF_RANGE). Refused before anything is proposed.</summary>
public sealed class LeaseTtlTooLargeException(long ttlSeconds)
    : ArgumentOutOfRangeException(nameof(ttlSeconds), ttlSeconds, $"lease TTL {ttlSeconds} s is above the maximum {LeaseLimits.MaxTtlSeconds} s")
{
    public long TtlSeconds { get; } = ttlSeconds;
}
