using System.Collections.Concurrent;
using RaftKv.Replication;
using RaftKv.Replication.Api;

namespace RaftKv.Server.Security.Auth;

/// <summary>
/// The one place that authenticates a request and judges its access, for every front door (etcd gRPC,
/// native gRPC, HTTP; docs/architecture.md, "Authentication"). Each front door only extracts the credential
/// (token, Basic user:password, TLS client certificate CN) and computes the request's <see cref="AuthAccess"/>
/// (<see cref="AuthRules"/>); the decision is here, against the replicated <see cref="AuthState"/> of this node.
/// </summary>
/// <remarks>
/// Nothing here logs or echoes a password or a token: refusals carry only a code and a fixed message.
/// An unknown user's password is still run through Argon2 (a fixed dummy hash) so the answer time does not
/// tell which user names exist.
/// </remarks>
public sealed partial class AuthGate(KvNode node, AuthTokens tokens, SimpleTokens simple, AuthRateLimiter limiter, AuthOptions options, PasswordHasher hasher, TimeProvider time, ILogger<AuthGate> log)
{
    /// <summary>The least lifetime of a forward token (<see cref="ForwardToken"/>).</summary>
    private static readonly TimeSpan ForwardTokenLifetime = TimeSpan.FromMinutes(1);

    private readonly ConcurrentDictionary<string, Minted> _forwardTokens = new(StringComparer.Ordinal);
    private readonly PermissionCache _permissions = new();
    private byte[]? _dummyHash;

    /// <summary>True when auth is enabled on this node's replicated state (nothing is checked otherwise).</summary>
    public bool Enabled => node.Auth.Enabled;

    public AuthOptions Options => options;

    /// <summary>etcd's Authenticate: a token for <paramref name="name"/> if the password matches — a signed JWT,
    /// or with AUTH_TOKEN=simple a simple token made known to every member through the log (<see cref="SimpleTokens"/>;
    /// held by this member only while a member's release cannot apply that).</summary>
    public async Task<string> AuthenticateAsync(string name, string password, string? address, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            var state = await node.ReadAuthAsync(ReadConsistency.Linearizable, cancellationToken).ConfigureAwait(false);
            if (!state.Enabled)
            {
                throw new AuthException(AuthError.AuthNotEnabled, "authentication is not enabled");
            }

            var user = VerifyPassword(state, name, password, address);
            if (options.TokenKind != AuthTokenKind.Simple)
            {
                return tokens.Issue(state.TokenKey, user.Name, state.Revision, options.TokenTtl);
            }

            if (!node.SimpleTokensReplicated)
            {
                return simple.Issue(user.Name, state.Revision, options.TokenTtl);
            }

            var token = SimpleTokens.NewToken(state.Revision);
            try
            {
                // Returns once this member applied it (every member holds it after its own apply: SimpleTokens.Hold).
                await node.AssignSimpleTokenAsync(new SimpleTokenGrant(SimpleTokens.Digest(token), user.Name, state.Revision), cancellationToken).ConfigureAwait(false);
                return token;
            }
            catch (AuthException e) when (e.Error == AuthError.AuthOldRevision && attempt < 3)
            {
                // The user changed while its password was checked (etcd's Authenticate loop): check it again.
            }
        }
    }

    /// <summary>
    /// Who the request is: a token (with AUTH_TOKEN=simple first looked up among this node's simple tokens;
    /// else a JWT checked against the key and its expiry — accepted in both modes, since only members hold the
    /// key: forwarded calls and member calls carry one; then the user's revision), else HTTP
    /// Basic credentials (rate-limited like Authenticate), else the TLS client certificate's CN; null when
    /// none was given. A bad credential throws (<see cref="AuthError.InvalidToken"/>, <see cref="AuthError.AuthFailed"/>).
    /// </summary>
    public AuthPrincipal? Identify(string? token, string? basicUser, string? basicPassword, string? certificateUser, System.Net.IPAddress? address)
    {
        var state = node.Auth;
        if (!string.IsNullOrEmpty(token))
        {
            if (options.TokenKind == AuthTokenKind.Simple && simple.Use(token) is { } held)
            {
                if (state.User(held.User) is { } holder && held.Revision >= holder.Revision)
                {
                    return Principal(holder);
                }

                simple.Drop(token); // the user changed (or is gone) since the token was issued
                LogTokenRefused(log, "its user changed or is gone since it was issued", held.Revision, state.Revision, Client(address));
                throw InvalidToken();
            }

            var claims = tokens.ValidateAny(state.TokenKey, token);
            if (claims is { Node: > 0 } member)
            {
                return new AuthPrincipal(string.Empty, () => token, member.Node);
            }

            if (claims is not { } c)
            {
                var reason = options.TokenKind == AuthTokenKind.Simple && token.Length <= SimpleTokens.MaxLength
                    ? "a simple token not held here (unknown, expired, or its assignment not applied here yet)"
                    : tokens.Diagnose(state.TokenKey, token); // expired, malformed or another key: which, for the debug log
                LogTokenRefused(log, reason, 0, state.Revision, Client(address));
                throw InvalidToken();
            }

            if (state.User(c.User) is not { } user || c.Revision < user.Revision)
            {
                LogTokenRefused(log, "its user changed or is gone since it was issued", c.Revision, state.Revision, Client(address));
                throw InvalidToken();
            }

            return Principal(user);
        }

        if (basicUser is not null)
        {
            return Principal(VerifyPassword(state, basicUser, basicPassword ?? string.Empty, address?.ToString()));
        }

        if (string.IsNullOrEmpty(certificateUser))
        {
            return null;
        }

        // A certificate's CN need not name an existing user: Authorize refuses such a principal.
        return state.User(certificateUser) is { } known ? Principal(known) : new AuthPrincipal(certificateUser, () => ForwardToken(certificateUser));
    }

    /// <summary>Throws unless <paramref name="principal"/> may do what <paramref name="access"/> says.</summary>
    public void Authorize(AuthPrincipal? principal, AuthAccess access)
    {
        if (access.Kind == AuthAccessKind.Open)
        {
            return;
        }

        if (principal is null)
        {
            throw new AuthException(AuthError.Unauthenticated, "credentials required (auth is enabled)");
        }

        if (principal.Node > 0)
        {
            return; // another member (its token is signed with the cluster key): member-to-member calls
        }

        var state = node.Auth;
        if (state.User(principal.User) is not { } user)
        {
            throw Denied();
        }

        var permitted = access.Kind switch
        {
            AuthAccessKind.Authenticated => true,
            AuthAccessKind.Admin => user.IsRoot,
            AuthAccessKind.Self => user.IsRoot || user.Name == access.Name,
            AuthAccessKind.HeldRole => user.IsRoot || user.Roles.Contains(access.Name, StringComparer.Ordinal),
            AuthAccessKind.Keys => KeysPermitted(state, user, access.Keys) && (user.IsRoot || access.PutLeases.All(id => LeaseKeysPermitted(state, user, id))),
            AuthAccessKind.LeaseKeys => user.IsRoot || LeaseKeysPermitted(state, user, access.LeaseId),
            _ => false,
        };
        if (!permitted)
        {
            throw Denied();
        }
    }

    private bool KeysPermitted(AuthState state, AuthUser user, IReadOnlyList<KeyAccess> keys)
    {
        for (var i = 0; i < keys.Count; i++)
        {
            var k = keys[i];
            if (!_permissions.Of(state, user, k.Write).Covers(k.Key, k.RangeEnd))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Whether <paramref name="user"/> may write every key attached to lease <paramref name="leaseId"/> (etcd's rule
    /// for revoke, TimeToLive and, with checkLeasePuts, for a put attaching another key to it).</summary>
    private bool LeaseKeysPermitted(AuthState state, AuthUser user, long leaseId)
    {
        var writable = _permissions.Of(state, user, write: true);
        return node.LeaseAttachedKeys(leaseId).All(k => writable.Covers(k, []));
    }

    /// <summary>
    /// Whether <paramref name="presented"/> is the cluster's learner credential (LEARNER_TOKEN): a learner's log stream
    /// (<c>Cluster/TailLog</c>) carries it, because a learner that has not caught up holds no user and cannot sign a
    /// member token. Compared as SHA-256 digests in constant time (no length or prefix leaks); false when none is set.
    /// </summary>
    public bool IsLearnerToken(string? presented)
    {
        if (options.LearnerToken.Length == 0 || string.IsNullOrEmpty(presented))
        {
            return false;
        }

        return System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(
            System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(presented)),
            System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(options.LearnerToken)));
    }

    /// <summary>Whether <paramref name="presented"/> is this leader's snapshot pull credential: a voting member pulling a
    /// snapshot too large for one Raft request over <c>Cluster/TailLog</c> got it in the leader's snapshot reference
    /// (KvNode.SnapshotPull.cs) and may hold no user or token key yet (a wiped member rejoining).</summary>
    public bool IsSnapshotPullCredential(string? presented) => node.IsSnapshotPullCredential(presented);

    /// <summary>This member's token for its calls to other members (the corruption check), or null while
    /// auth is off. Short-lived; a new one per call is cheap (one HMAC).</summary>
    public string? NodeToken()
    {
        var state = node.Auth;
        return state.Enabled && state.TokenKey.Length > 0 ? tokens.IssueNode(state.TokenKey, node.NodeId, TimeSpan.FromSeconds(60)) : null;
    }

    private static string Client(System.Net.IPAddress? address) => address?.ToString() ?? "unknown";

    private static AuthException Denied() => new(AuthError.PermissionDenied, "permission denied");

    private static AuthException InvalidToken() => new(AuthError.InvalidToken, "invalid auth token");

    private AuthPrincipal Principal(AuthUser user)
    {
        var name = user.Name;
        return new AuthPrincipal(name, () => ForwardToken(name)) { Unrestricted = user.IsRoot };
    }

    /// <summary>A JWT for <paramref name="user"/> to forward a request to the leader with: one per user and auth
    /// revision, reused for up to half its lifetime (so the leader's verified-token cache hits too).</summary>
    /// <remarks>It travels only member to member, so it lives <see cref="ForwardTokenLifetime"/> whatever
    /// AUTH_TOKEN_TTL says: with short user tokens (3 s in the Go client's checks) half a lifetime left a reused
    /// forward token a fraction of a second, which a hop to a loaded leader could outlast. (The CI failure of
    /// 2026-12-07 that prompted this, a Go client's delete answered "invalid auth token", turned out to be clientv3 3.4
    /// sending its first, expired token: tests/etcd/go/maintenance.go.) A user change still voids it at once (its
    /// revision).</remarks>
    private string ForwardToken(string user)
    {
        var state = node.Auth;
        var now = time.GetUtcNow();
        if (_forwardTokens.TryGetValue(user, out var m) && m.Revision == state.Revision && ReferenceEquals(m.Key, state.TokenKey) && now < m.ReuseUntil)
        {
            return m.Token;
        }

        if (_forwardTokens.Count >= 10_000)
        {
            _forwardTokens.Clear(); // bounded: as many entries as users forwarding at once
        }

        var lifetime = options.TokenTtl > ForwardTokenLifetime ? options.TokenTtl : ForwardTokenLifetime;
        var token = tokens.Issue(state.TokenKey, user, state.Revision, lifetime);
        _forwardTokens[user] = new Minted(state.Revision, state.TokenKey, now + (lifetime / 2), token);
        return token;
    }

    private AuthUser VerifyPassword(AuthState state, string name, string password, string? address)
    {
        if (limiter.IsBlocked(name, address))
        {
            LogRateLimited(log, address ?? "unknown");
            throw new AuthException(AuthError.TooManyRequests, "too many requests");
        }

        var user = state.User(name);
        var candidate = password.Length == 0 ? "\0" : password; // Argon2 takes no empty password: same cost, never a match
        bool ok;
        if (user?.PasswordHash is { } hash)
        {
            ok = PasswordHasher.Verify(candidate, hash) && password.Length > 0;
        }
        else
        {
            // An unknown user or a no-password user (client certificate only): same cost as a real check, never a match.
            _ = PasswordHasher.Verify(candidate, _dummyHash ??= hasher.Hash(Guid.NewGuid().ToString()));
            ok = false;
        }

        if (!ok || user is null)
        {
            limiter.RecordFailure(name, address);
            LogFailed(log, address ?? "unknown");
            throw new AuthException(AuthError.AuthFailed, "authentication failed, invalid user ID or password");
        }

        return user;
    }

    private sealed record Minted(long Revision, byte[] Key, DateTimeOffset ReuseUntil, string Token);

    [LoggerMessage(Level = LogLevel.Information, Message = "Authentication failed (client {Address})")]
    private static partial void LogFailed(ILogger logger, string address);

    /// <summary>etcd logs a refused token at warn level; here at debug — an expired token is every client's routine
    /// (it authenticates again) — with the reason, never the token.</summary>
    [LoggerMessage(Level = LogLevel.Debug, Message = "Auth token refused: {Reason} (token revision {TokenRevision}, auth revision here {Revision}, client {Address})")]
    private static partial void LogTokenRefused(ILogger logger, string reason, long tokenRevision, long revision, string address);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Authentication refused: too many failures (client {Address})")]
    private static partial void LogRateLimited(ILogger logger, string address);
}
