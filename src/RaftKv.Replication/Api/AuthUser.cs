namespace RaftKv.Replication.Api;

/// <summary>A user of the replicated auth state.</summary>
/// <param name="Name">The user name (non-empty).</param>
/// <param name="PasswordHash">The password hash record made by the node that received the password
/// (opaque to the state machine: Server/Security/Auth/PasswordHasher.cs); null = no password (the user
/// authenticates only by TLS client certificate, etcd's no-password option).</param>
/// <param name="Roles">Granted roles, sorted ordinally.</param>
/// <param name="Revision">The auth revision of the user's last password or role change (or creation): a
/// token issued before it is stale.</param>
public sealed record AuthUser(string Name, byte[]? PasswordHash, IReadOnlyList<string> Roles, long Revision)
{
    /// <summary>The root role: every permission, and the only role allowed admin calls.</summary>
    public const string RootRole = "root";

    /// <summary>The root user: must exist with the root role before auth can be enabled.</summary>
    public const string RootUser = "root";

    public bool IsRoot => Roles.Contains(RootRole, StringComparer.Ordinal);
}
