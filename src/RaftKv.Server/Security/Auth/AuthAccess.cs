namespace RaftKv.Server.Security.Auth;

/// <summary>What a request needs once auth is enabled (computed per front door by <see cref="AuthRules"/>,
/// judged in one place by <see cref="AuthGate"/>).</summary>
public sealed record AuthAccess(AuthAccessKind Kind, IReadOnlyList<KeyAccess> Keys, long LeaseId = 0)
{
    public static readonly AuthAccess Open = new(AuthAccessKind.Open, []);

    public static readonly AuthAccess Authenticated = new(AuthAccessKind.Authenticated, []);

    public static readonly AuthAccess Admin = new(AuthAccessKind.Admin, []);

    public static AuthAccess On(params KeyAccess[] keys) => new(AuthAccessKind.Keys, keys);

    public static AuthAccess On(IReadOnlyList<KeyAccess> keys) => new(AuthAccessKind.Keys, keys);

    /// <summary>Write access to every key attached to lease <paramref name="id"/> (etcd's rule for revoke and TimeToLive).</summary>
    public static AuthAccess LeaseKeys(long id) => new(AuthAccessKind.LeaseKeys, [], id);

    /// <summary>The user itself or root: etcd lets a user read its own user record (<c>etcdctl user get</c>).</summary>
    public static AuthAccess UserItself(string name) => new(AuthAccessKind.Self, []) { Name = name };

    /// <summary>A holder of the role or root: etcd lets a user read the roles it holds (<c>etcdctl user get --detail</c>).</summary>
    public static AuthAccess RoleHeld(string role) => new(AuthAccessKind.HeldRole, []) { Name = role };

    /// <summary>The user or role name of <see cref="AuthAccessKind.Self"/> / <see cref="AuthAccessKind.HeldRole"/>.</summary>
    public string Name { get; init; } = string.Empty;

    /// <summary>With <see cref="AuthAccessKind.Keys"/>: the leases the request's puts attach keys to. The user also needs
    /// write on every key already attached to each (etcd's checkLeasePuts: a user who could not revoke the lease may not
    /// attach more keys to it).</summary>
    public IReadOnlyList<long> PutLeases { get; init; } = [];
}
