namespace RaftKv.Replication.Leases;

/// <summary>The body of a lease command (<see cref="Commands.CommandKind.LeaseGrant"/>,
/// <see cref="Commands.CommandKind.LeaseRevoke"/>).</summary>
/// <param name="Id">The lease id; for a grant 0 = the state machine picks one at apply (<see cref="LeaseIds"/>).</param>
/// <param name="TtlSeconds">Grant only: the TTL, already validated and raised to the minimum by the proposer.</param>
public sealed record LeaseCommand(long Id, long TtlSeconds = 0);
