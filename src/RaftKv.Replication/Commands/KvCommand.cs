using System.Collections.ObjectModel;
using RaftKv.Replication.Api;

namespace RaftKv.Replication.Commands;

/// <summary>The kinds of replicated commands.</summary>
public enum CommandKind : byte
{
    /// <summary>An atomic transaction (plain puts and deletes are single-op transactions).</summary>
    Txn = 1,

    /// <summary>Advances the logical clock only (proposed by an idle leader so TTLs expire).</summary>
    Tick = 2,

    /// <summary>A hash checkpoint: advances the clock like a tick, and every replica hashes its user
    /// keyspace as of this entry (the corruption check). Proposed only when every member supports it.</summary>
    HashCheck = 3,

    /// <summary>Raises or disarms an alarm (<see cref="KvCommand.Alarm"/>), kept under a reserved key.
    /// Proposed only when every member supports it.</summary>
    Alarm = 4,

    /// <summary>Compacts the MVCC history at <see cref="KvCommand.Revision"/> (format version 3).</summary>
    Compact = 5,

    /// <summary>Adds, updates, removes or promotes an application-level learner (<see cref="KvCommand.Learner"/>;
    /// docs/architecture.md, "Learners"). Proposed only when every member supports it.</summary>
    Learner = 6,

    /// <summary>Sets the replicated random cluster uid (<see cref="KvCommand.ClusterUid"/>, 16 bytes) when the state has
    /// none: first write wins (docs/architecture.md, "Cluster uid"). Proposed only when every member supports it.</summary>
    ClusterUid = 7,

    /// <summary>Grants a lease (<see cref="KvCommand.Lease"/>). Kinds 16-31 belong to leases.</summary>
    LeaseGrant = 16,

    /// <summary>Revokes a lease and deletes every key attached to it at one revision (<see cref="KvCommand.Lease"/>).</summary>
    LeaseRevoke = 17,

    /// <summary>Turns auth on (<see cref="KvCommand.Auth"/>: the token key, kept only if none is set yet).
    /// Kinds 32-47 belong to auth (users, roles, permissions; docs/architecture.md, "Authentication").</summary>
    AuthEnable = 32,

    /// <summary>Turns auth off.</summary>
    AuthDisable = 33,

    /// <summary>Adds a user (name, password hash or none).</summary>
    UserAdd = 34,

    /// <summary>Deletes a user.</summary>
    UserDelete = 35,

    /// <summary>Replaces a user's password hash.</summary>
    UserChangePassword = 36,

    /// <summary>Grants a role to a user.</summary>
    UserGrantRole = 37,

    /// <summary>Revokes a role from a user.</summary>
    UserRevokeRole = 38,

    /// <summary>Adds a role.</summary>
    RoleAdd = 39,

    /// <summary>Deletes a role (and revokes it from every user).</summary>
    RoleDelete = 40,

    /// <summary>Grants a permission to a role (replacing one on the same key and range end).</summary>
    RoleGrantPermission = 41,

    /// <summary>Revokes the permission on a key and range end from a role.</summary>
    RoleRevokePermission = 42,

    /// <summary>Makes a simple token known on every member (<see cref="KvCommand.Auth"/>: the user in
    /// <c>Name</c>, the token's SHA-256 in <c>Secret</c>; the auth revision its password was checked at in
    /// <see cref="KvCommand.Revision"/>): etcd's Authenticate through Raft under AUTH_TOKEN=simple. Changes no
    /// replicated state and not the auth revision; each member's apply hands it to its in-memory token table.
    /// Proposed only when every member supports it.</summary>
    SimpleToken = 43,
}

/// <summary>A decoded log entry payload.</summary>
/// <param name="Kind">Txn, Tick or Compact.</param>
/// <param name="TimestampUnixMs">The leader's wall clock when it proposed the command; the state
/// machine's logical clock is the maximum of these.</param>
/// <param name="RequestId">Optional client request id for exactly-once retries.</param>
/// <param name="Txn">The transaction (null for ticks).</param>
/// <param name="Resolved">One entry per compare of <see cref="Txn"/>, nested transactions' compares
/// included in depth-first order (<see cref="AllCompares"/>): the leader's resolution of a value compare,
/// null for other compares; null altogether in commands without value compares and in entries written
/// before format version 2 (whose value compares are evaluated at apply).</param>
/// <param name="Revision">The compact revision of a <see cref="CommandKind.Compact"/>; the auth revision of a
/// <see cref="CommandKind.SimpleToken"/>.</param>
/// <param name="Lease">The body of a lease command (lease kinds only).</param>
/// <param name="Alarm">The alarm change of an <see cref="CommandKind.Alarm"/> command; null otherwise.</param>
/// <param name="Auth">The body of an auth command (kinds 32-47); null otherwise.</param>
/// <param name="Learner">The body of a <see cref="CommandKind.Learner"/> command; null otherwise.</param>
/// <param name="ClusterUid">The 16-byte uid of a <see cref="CommandKind.ClusterUid"/> command; null otherwise.</param>
public sealed record KvCommand(CommandKind Kind, long TimestampUnixMs, string? RequestId, KvTxn? Txn, IReadOnlyList<ResolvedCompare?>? Resolved = null, long Revision = 0,
    Leases.LeaseCommand? Lease = null, AlarmChange? Alarm = null, Auth.AuthChange? Auth = null, LearnerChange? Learner = null, byte[]? ClusterUid = null)
{
    /// <summary>True for the auth kinds (32-47).</summary>
    public static bool IsAuthKind(CommandKind kind) => (byte)kind is >= 32 and <= 47;

    /// <summary>The format version the entry was decoded from (<see cref="CommandCodec.CurrentVersion"/> for new commands).</summary>
    public byte FormatVersion { get; init; } = CommandCodec.CurrentVersion;

    /// <summary>Every compare of <paramref name="txn"/>, depth first: its own, then those of nested txns
    /// in the success ops, then in the failure ops (the order of <see cref="Resolved"/>).</summary>
    public static IEnumerable<KvCompare> AllCompares(KvTxn txn)
    {
        foreach (var c in txn.Compares)
        {
            yield return c;
        }

        foreach (var op in txn.Success.Concat(txn.Failure))
        {
            if (op is { Kind: KvOpKind.Txn, Nested: { } nested })
            {
                foreach (var c in AllCompares(nested))
                {
                    yield return c;
                }
            }
        }
    }

    /// <summary>The resolutions keyed by compare instance.</summary>
    internal IReadOnlyDictionary<KvCompare, ResolvedCompare>? ResolutionsByCompare()
    {
        if (Resolved is null || Txn is null)
        {
            return null;
        }

        var map = new Dictionary<KvCompare, ResolvedCompare>(ReferenceEqualityComparer.Instance);
        var i = 0;
        foreach (var c in AllCompares(Txn))
        {
            if (i < Resolved.Count && Resolved[i] is { } r)
            {
                map[c] = r;
            }

            i++;
        }

        return new ReadOnlyDictionary<KvCompare, ResolvedCompare>(map);
    }
}
