namespace RaftKv.Replication.Api;

/// <summary>The outcome of a committed lease grant.</summary>
/// <param name="Id">The granted lease's id (the one asked for, or the one the cluster picked for 0).</param>
/// <param name="TtlSeconds">The granted TTL: the requested one raised to the cluster's minimum.</param>
/// <param name="Index">The Raft index of the grant (header).</param>
public sealed record LeaseGrantResult(long Id, long TtlSeconds, long Index);
