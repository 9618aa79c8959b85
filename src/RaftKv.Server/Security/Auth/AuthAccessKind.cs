namespace RaftKv.Server.Security.Auth;

public enum AuthAccessKind
{
    /// <summary>No credential needed (Authenticate, AuthStatus, /health, …).</summary>
    Open,

    /// <summary>Any authenticated user.</summary>
    Authenticated,

    /// <summary>The listed keys and ranges, read or write.</summary>
    Keys,

    /// <summary>Write on every key attached to a lease.</summary>
    LeaseKeys,

    /// <summary>A user with the root role (admin calls, membership, auth management).</summary>
    Admin,

    /// <summary>The user named <see cref="AuthAccess.Name"/> itself, or root (etcd's UserGet of oneself).</summary>
    Self,

    /// <summary>A user holding the role named <see cref="AuthAccess.Name"/>, or root (etcd's RoleGet of one's role).</summary>
    HeldRole,
}
