namespace RaftKv.Replication.Leases;

/// <summary>A granted lease as the replicated state holds it.</summary>
/// <param name="Id">The lease id (&gt; 0).</param>
/// <param name="TtlSeconds">The granted TTL (already raised to the minimum).</param>
/// <param name="RemainingSeconds">The last checkpointed remaining TTL (0 = none): a new leader starts
/// the lease's clock from it instead of the full TTL (etcd's lease checkpoint).</param>
internal sealed record LeaseRecord(long Id, long TtlSeconds, long RemainingSeconds);
