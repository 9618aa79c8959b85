namespace RaftKv.Replication.Api;

/// <summary>Why an auth change or check was refused; each front door maps the code to its answer
/// (etcd's rpctypes strings on the etcd API). Never matched by message text.</summary>
public enum AuthError
{
    UserEmpty,
    UserAlreadyExists,
    UserNotFound,
    RoleEmpty,
    RoleAlreadyExists,
    RoleNotFound,
    RoleNotGranted,
    PermissionNotGranted,
    RootUserNotExist,
    RootRoleNotExist,

    /// <summary>A change that would lock the cluster out while auth is on (delete root, revoke root from root).</summary>
    InvalidAuthManagement,
    AuthNotEnabled,

    /// <summary>Wrong user name or password (one answer for both).</summary>
    AuthFailed,

    /// <summary>No credentials at all while auth is on (etcd answers "user name is empty").</summary>
    Unauthenticated,

    /// <summary>A missing, malformed, expired or stale token .</summary>
    InvalidToken,

    /// <summary>The authenticated user lacks the permission.</summary>
    PermissionDenied,

    /// <summary>Too many failed Authenticate calls for this user or client address.</summary>
    TooManyRequests,

    /// <summary>The user changed between the check of its password and the token's assignment (etcd's
    /// ErrAuthOldRevision; Authenticate checks again).</summary>
    AuthOldRevision,
}
