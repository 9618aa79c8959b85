using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;

namespace RaftKv.Server.Security.Auth;

/// <summary>
/// etcd's simple tokens (AUTH_TOKEN=simple): random opaque strings held in memory, each mapped to the user it was
/// issued to and the auth revision its password was checked at. As in etcd they are known to every member: the issuing
/// member has the leader put the token's SHA-256 through the log and each member's apply holds it here
/// (<see cref="Hold"/>, from <c>KvNode.SimpleTokenAssigned</c>; Replication/KvNode.SimpleTokens.cs). During a rolling
/// upgrade from a release without that, a token is held by the issuing member only (<see cref="Issue"/>); another member
/// answers etcd's "invalid auth token" (UNAUTHENTICATED), on which etcd's clients authenticate again. A restart forgets
/// them all.
/// </summary>
/// <remarks>
/// Format (etcd's): 16 random letters <c>[a-zA-Z]</c>, a dot, then a number (etcd puts the Raft index of the
/// Authenticate there; here the auth revision at issue — clients treat the whole string as opaque). Held by SHA-256, so
/// neither this table nor the log holds a usable token.
/// A token lives <see cref="AuthOptions.TokenTtl"/> since its last use on this member (etcd's TTL keeper, per member:
/// each successful use refreshes it). Like signed tokens it is refused once the user changed after it was issued
/// (password, roles, delete: <see cref="AuthGate"/> compares revisions) and then dropped here. A sweep once a second,
/// started by the first token, drops expired tokens, and every token while auth is disabled (etcd drops them all on
/// AuthDisable). Never logged.
/// </remarks>
public sealed class SimpleTokens(TimeProvider time, Func<bool> authEnabled) : IDisposable
{
    private const string Letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    private const int PrefixLength = 16;

    /// <summary>The longest string taken for a simple token (16 letters, a dot, a revision; a JWT is longer).</summary>
    public const int MaxLength = 64;

    private readonly ConcurrentDictionary<string, Entry> _tokens = new(StringComparer.Ordinal);
    private readonly Lock _sweeperLock = new();
    private ITimer? _sweeper;

    /// <summary>Tokens held (tests, metrics).</summary>
    public int Count => _tokens.Count;

    /// <summary>A new token (not held yet: <see cref="Hold"/> it, or <see cref="Issue"/> one instead).</summary>
    public static string NewToken(long revision)
        => string.Create(PrefixLength, 0, static (span, _) =>
        {
            for (var i = 0; i < span.Length; i++)
            {
                span[i] = Letters[RandomNumberGenerator.GetInt32(Letters.Length)];
            }
        }) + "." + revision.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The SHA-256 of <paramref name="token"/>: what the log carries and this table is keyed by.</summary>
    public static byte[] Digest(string token) => SHA256.HashData(Encoding.UTF8.GetBytes(token));

    /// <summary>A new token for <paramref name="user"/>, held by this member only, valid for <paramref name="ttl"/> after each use.</summary>
    public string Issue(string user, long revision, TimeSpan ttl)
    {
        while (true)
        {
            var token = NewToken(revision);
            var digest = Digest(token);
            if (!_tokens.ContainsKey(Key(digest)))
            {
                Hold(digest, user, revision, ttl);
                return token;
            }
        }
    }

    /// <summary>Holds the token whose SHA-256 is <paramref name="digest"/> for <paramref name="user"/>, valid for
    /// <paramref name="ttl"/> after each use (again: a repeated assignment of the same token restarts its lifetime).</summary>
    public void Hold(byte[] digest, string user, long revision, TimeSpan ttl)
    {
        EnsureSweeper();
        _tokens[Key(digest)] = new Entry(user, revision, ttl.Ticks, Now() + ttl.Ticks);
    }

    /// <summary>The token's user and revision at issue, refreshing its lifetime; null when unknown or expired.</summary>
    public (string User, long Revision)? Use(string token)
    {
        if (token.Length > MaxLength)
        {
            return null; // not a simple token (a JWT): no digest to compute
        }

        var key = Key(Digest(token));
        if (!_tokens.TryGetValue(key, out var e))
        {
            return null;
        }

        var now = Now();
        if (now >= e.Expires)
        {
            _tokens.TryRemove(key, out _);
            return null;
        }

        e.Expires = now + e.TtlTicks;
        return (e.User, e.Revision);
    }

    /// <summary>Forgets <paramref name="token"/> (its user changed since it was issued).</summary>
    public void Drop(string token) => _tokens.TryRemove(Key(Digest(token)), out _);

    /// <summary>Drops the expired tokens, or all of them while auth is disabled.</summary>
    public void Sweep()
    {
        if (!authEnabled())
        {
            _tokens.Clear();
            return;
        }

        var now = Now();
        foreach (var (token, e) in _tokens)
        {
            if (now >= e.Expires)
            {
                _tokens.TryRemove(token, out _);
            }
        }
    }

    public void Dispose()
    {
        lock (_sweeperLock)
        {
            _sweeper?.Dispose();
            _sweeper = null;
        }
    }

    private static string Key(byte[] digest) => Convert.ToBase64String(digest);

    private long Now() => time.GetUtcNow().UtcTicks;

    private void EnsureSweeper()
    {
        if (Volatile.Read(ref _sweeper) is not null)
        {
            return;
        }

        lock (_sweeperLock)
        {
            _sweeper ??= time.CreateTimer(_ => Sweep(), null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
        }
    }

    private sealed class Entry(string user, long revision, long ttlTicks, long expires)
    {
        private long _expires = expires;

        public string User { get; } = user;

        public long Revision { get; } = revision;

        public long TtlTicks { get; } = ttlTicks;

        public long Expires
        {
            get => Volatile.Read(ref _expires);
            set => Volatile.Write(ref _expires, value);
        }
    }
}
