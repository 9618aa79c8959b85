using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using RaftKv.Replication.Api;

namespace RaftKv.Server.Security.Auth;

/// <summary>
/// Signed tokens (JWT, HS256), valid on every node: the key is the cluster's token key, chosen once by the
/// node that proposed the first AuthEnable and replicated through Raft (so it is in every snapshot), and the
/// claims are checked against the replicated auth state.
/// </summary>
/// <remarks>
/// Claims: <c>{"username": name, "revision": the auth revision when issued, "iat": unix s, "exp": unix s}</c>
/// (etcd's JWT claims), plus <c>"node": id</c> (and an empty user name) in a member's own token, which a node
/// sends on its member-to-member calls (the corruption check) — only members hold the key, so only they can
/// make one. A token is valid while <c>now &lt; exp</c> (<see cref="TimeProvider"/>; exp rounded up to the second, so
/// for at least its ttl), the user
/// exists, and the user has not changed since it was issued (<c>revision ≥</c> the user's revision: a
/// password change, a role grant or revoke, or a delete and re-add invalidate every earlier token of that
/// user). Permissions are looked up at each request, so a role's permission change applies at once.
/// Verifying costs an HMAC and a JSON parse; a token that verified is remembered (by its exact text, with the
/// key it verified under) until it expires, so a client's requests after the first cost a dictionary lookup
/// and the expiry check (at most <see cref="MaxVerified"/> tokens remembered; then the memory starts over).
/// </remarks>
public sealed class AuthTokens(TimeProvider time)
{
    /// <summary>How many verified tokens are remembered at most.</summary>
    public const int MaxVerified = 10_000;

    private readonly ConcurrentDictionary<string, Verified> _verified = new(StringComparer.Ordinal);

    private static readonly byte[] Header = Encoding.ASCII.GetBytes(Base64Url.EncodeToString("{\"alg\":\"HS256\",\"typ\":\"JWT\"}"u8));

    public string Issue(byte[] key, string user, long revision, TimeSpan ttl) => Sign(key, user, revision, 0, ttl);

    /// <summary>A member's token for its calls to other members (no user; <paramref name="nodeId"/> ≥ 1).</summary>
    public string IssueNode(byte[] key, long nodeId, TimeSpan ttl) => Sign(key, string.Empty, 0, nodeId, ttl);

    /// <summary>The token's user (empty for a member's token), revision and member id (0 for a user's token),
    /// or null when it is malformed, badly signed or expired.</summary>
    public (string User, long Revision, long Node)? ValidateAny(byte[] key, string token)
    {
        var claims = Parse(key, token);
        return claims is null ? null : (claims.Username, claims.Revision, claims.Node);
    }

    /// <exception cref="UnavailableException">No key yet: auth was imported enabled from etcd's snapshot and the first
    /// leader has not proposed the cluster's key (Replication/KvNode.AuthTokenKey.cs); retry shortly. Never signs with
    /// an empty key.</exception>
    private string Sign(byte[] key, string user, long revision, long node, TimeSpan ttl)
    {
        if (key.Length == 0)
        {
            throw new UnavailableException("the cluster's token key is not set yet (auth restored from an etcd snapshot: the leader proposes it); retry");
        }

        // exp is whole seconds (etcd's claims): rounded up, so a token lives at least its ttl — etcd's truncation
        // takes up to a second off, a third of a 3 s token (the Go client's checks run with AUTH_TOKEN_TTL=3).
        var nowMs = time.GetUtcNow().ToUnixTimeMilliseconds();
        var exp = (nowMs + (long)Math.Ceiling(ttl.TotalMilliseconds) + 999) / 1000;
        var claims = JsonSerializer.SerializeToUtf8Bytes(new Claims(user, revision, nowMs / 1000, exp) { Node = node }, ClaimsContext.Default.Claims);
        var signingInput = $"{Encoding.ASCII.GetString(Header)}.{Base64Url.EncodeToString(claims)}";
        var signature = HMACSHA256.HashData(key, Encoding.ASCII.GetBytes(signingInput));
        return signingInput + "." + Base64Url.EncodeToString(signature);
    }

    /// <summary>The token's user and revision, or null when it is malformed, badly signed, expired or a member's token.</summary>
    public (string User, long Revision)? Validate(byte[] key, string token)
        => Parse(key, token) is { Node: 0, Username.Length: > 0 } c ? (c.Username, c.Revision) : null;

    private Claims? Parse(byte[] key, string token)
    {
        if (key.Length == 0 || token.Length is 0 or > 4096)
        {
            return null;
        }

        if (_verified.TryGetValue(token, out var known) && known.Key.AsSpan().SequenceEqual(key))
        {
            if (time.GetUtcNow().ToUnixTimeSeconds() < known.Claims.Exp)
            {
                return known.Claims;
            }

            _verified.TryRemove(token, out _);
            return null;
        }

        var claims = Verify(key, token);
        if (claims is not null)
        {
            if (_verified.Count >= MaxVerified)
            {
                _verified.Clear();
            }

            _verified[token] = new Verified(key, claims);
        }

        return claims;
    }

    private Claims? Verify(byte[] key, string token)
    {
        var (claims, _) = Inspect(key, token);
        return claims is { Username: not null } c && (c.Username.Length > 0 || c.Node > 0) && time.GetUtcNow().ToUnixTimeSeconds() < c.Exp ? c : null;
    }

    /// <summary>Why <paramref name="token"/> does not verify under <paramref name="key"/>, for the refusal's debug log: malformed,
    /// signed with another key (with the first 4 bytes of SHA-256 of the key here, which names a key without revealing it:
    /// two members whose fingerprints differ hold different keys), or expired (its iat and exp, and now). Never the token.</summary>
    public string Diagnose(byte[] key, string token)
    {
        if (key.Length == 0)
        {
            return "no token key here yet";
        }

        var (claims, fault) = Inspect(key, token);
        var fingerprint = Convert.ToHexStringLower(SHA256.HashData(key).AsSpan(0, 4));
        var now = time.GetUtcNow().ToUnixTimeSeconds();
        return fault == "another key" ? $"a JWT signed with another key than this member's (key #{fingerprint})"
            : claims is null ? fault!
            : now >= claims.Exp ? $"a JWT expired {now - claims.Exp} s ago (iat {claims.Iat}, exp {claims.Exp}, now {now}; key #{fingerprint})"
            : "a JWT without a user or member";
    }

    /// <summary>The claims of a token whose header and signature check out under <paramref name="key"/> (expiry and
    /// user not judged), or what is wrong with it: "not a JWT", "another key", "a malformed JWT", "a JWT without claims".</summary>
    private static (Claims? Claims, string? Fault) Inspect(byte[] key, string token)
    {
        var firstDot = token.IndexOf('.', StringComparison.Ordinal);
        var lastDot = token.LastIndexOf('.');
        if (firstDot <= 0 || lastDot <= firstDot || token.Length > 4096)
        {
            return (null, "not a JWT");
        }

        try
        {
            var expected = HMACSHA256.HashData(key, Encoding.ASCII.GetBytes(token[..lastDot]));
            if (!CryptographicOperations.FixedTimeEquals(expected, Base64Url.DecodeFromChars(token.AsSpan(lastDot + 1))))
            {
                return (null, "another key");
            }

            if (!token.AsSpan(0, firstDot).SequenceEqual(Encoding.ASCII.GetString(Header)))
            {
                return (null, "a malformed JWT");
            }

            var claims = JsonSerializer.Deserialize(Base64Url.DecodeFromChars(token.AsSpan(firstDot + 1, lastDot - firstDot - 1)), ClaimsContext.Default.Claims);
            return claims is null ? (null, "a JWT without claims") : (claims, null);
        }
        catch (Exception e) when (e is FormatException or JsonException)
        {
            return (null, "a malformed JWT");
        }
    }

    private sealed record Verified(byte[] Key, Claims Claims);

    internal sealed record Claims(
        [property: System.Text.Json.Serialization.JsonPropertyName("username")] string Username,
        [property: System.Text.Json.Serialization.JsonPropertyName("revision")] long Revision,
        [property: System.Text.Json.Serialization.JsonPropertyName("iat")] long Iat,
        [property: System.Text.Json.Serialization.JsonPropertyName("exp")] long Exp)
    {
        [System.Text.Json.Serialization.JsonPropertyName("node")]
        [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingDefault)]
        public long Node { get; init; }
    }
}
