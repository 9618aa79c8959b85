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
}
