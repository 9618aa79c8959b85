using RaftKv.Replication.Api;

namespace RaftKv.Replication.Commands;

/// <summary>The kinds of replicated commands.</summary>
public enum CommandKind : byte
{
    /// <summary>An atomic transaction (plain puts and deletes are single-op transactions).</summary>
    Txn = 1,

    /// <summary>Advances the logical clock only (proposed by an idle leader so TTLs expire).</summary>
    Tick = 2,

    /// <summary>Grants a lease (<see cref="KvCommand.Lease"/>). Values 16-31 belong to leases; other
    /// features pick kinds below 16 so the two never collide.</summary>
    LeaseGrant = 16,

    /// <summary>Revokes a lease and deletes every key attached to it in one write (<see cref="KvCommand.Lease"/>).</summary>
    LeaseRevoke = 17,
}

/// <summary>A decoded log entry payload.</summary>
/// <param name="Kind">Txn or Tick.</param>
/// <param name="TimestampUnixMs">The leader's wall clock when it proposed the command; the state
/// machine's logical clock is the maximum of these.</param>
/// <param name="RequestId">Optional client request id for exactly-once retries.</param>
/// <param name="Txn">The transaction (null for ticks).</param>
/// <param name="Resolved">One entry per compare of <see cref="Txn"/>: the leader's resolution of a
/// value compare, null for other compares; null altogether in commands without value compares and
/// in entries written before format version 2 (whose value compares are evaluated at apply).</param>
/// <param name="Lease">The lease command's body (lease kinds only).</param>
public sealed record KvCommand(CommandKind Kind, long TimestampUnixMs, string? RequestId, KvTxn? Txn, IReadOnlyList<ResolvedCompare?>? Resolved = null,
    Leases.LeaseCommand? Lease = null);
