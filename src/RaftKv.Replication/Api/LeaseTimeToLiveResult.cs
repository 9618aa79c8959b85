namespace RaftKv.Replication.Api;

/// <summary>A lease as the leader sees it (etcd's LeaseTimeToLiveResponse).</summary>
/// <param name="Id">The lease id.</param>
/// <param name="RemainingSeconds">Seconds until the leader expires it unless kept alive (whole seconds, ≥ 0).</param>
/// <param name="GrantedTtlSeconds">The TTL it was granted with (each keep-alive restores it).</param>
/// <param name="Keys">The keys attached to it, in key order (empty unless asked for).</param>
public sealed record LeaseTimeToLiveResult(long Id, long RemainingSeconds, long GrantedTtlSeconds, IReadOnlyList<byte[]> Keys);
