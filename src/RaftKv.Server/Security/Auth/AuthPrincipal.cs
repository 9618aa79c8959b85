namespace RaftKv.Server.Security.Auth;

/// <summary>The user a request authenticated as (an HttpContext feature set by the auth gate, for gRPC and
/// HTTP alike). <see cref="ForwardToken"/> is the credential a follower sends when it forwards the request
/// to the leader: a fresh token for this user signed with the cluster key (docs/architecture.md,
/// "Authentication", forwarding).</summary>
public sealed class AuthPrincipal(string user, Func<string> mint, long node = 0)
{
    private string? _token;

    /// <summary>The user name (empty for a member).</summary>
    public string User { get; } = user;

    /// <summary>The member id when another cluster member is calling with its own token (0 for a user).</summary>
    public long Node { get; } = node;

    /// <summary>True for another member and for a user holding the root role when it was identified: such a caller may
    /// do anything (<see cref="AuthGate.Authorize"/> would permit every access), so a front door need not compute the
    /// request's access at all — etcd checks the root role first too.</summary>
    public bool Unrestricted { get; init; } = node > 0;

    public string ForwardToken => _token ??= mint();

    /// <summary>A forward token minted now (<see cref="ForwardToken"/> keeps the first one for the request): for a
    /// request that forwards writes for longer than a token lives — a Lock or Campaign that waits, then writes (its
    /// cleanup) — so each write carries a token that is current (its lifetime, the auth revision).</summary>
    public string FreshForwardToken() => _token = mint();

    public static AuthPrincipal? Of(HttpContext? context) => context?.Features.Get<AuthPrincipal>();
}
