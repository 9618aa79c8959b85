using System.Collections.Concurrent;
using System.Security.Cryptography;

namespace RaftKv.Server.Security.Auth;

/// <summary>
/// etcd's simple tokens (AUTH_TOKEN=simple): random opaque strings held in this node's memory, each mapped to
/// the user it was issued to and the auth revision at issue. They are local: another node does not know them
/// and answers etcd's "invalid auth token" (UNAUTHENTICATED), on which etcd's clients authenticate again; a
/// restart forgets them all.
/// </summary>
/// <remarks>
/// Format (etcd's): 16 random letters <c>[a-zA-Z]</c>, a dot, then a number (etcd puts the Raft index of the
/// Authenticate there; here the auth revision at issue — clients treat the whole string as opaque).
/// A token lives <see cref="AuthOptions.TokenTtl"/> since its last use (etcd's TTL keeper: each successful use
/// refreshes it). Like signed tokens it is refused once the user changed after it was issued (password, roles,
/// delete: <see cref="AuthGate"/> compares revisions) and then dropped here. A sweep once a second, started by
/// the first issue, drops expired tokens, and every token while auth is disabled (etcd drops them all on
/// AuthDisable). Not replicated and never logged.
/// </remarks>
public sealed class SimpleTokens(TimeProvider time, Func<bool> authEnabled) : IDisposable
{
    private const string Letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    private const int PrefixLength = 16;

    private readonly ConcurrentDictionary<string, Entry> _tokens = new(StringComparer.Ordinal);
    private readonly Lock _sweeperLock = new();
    private ITimer? _sweeper;

    /// <summary>Tokens held (tests, metrics).</summary>
    public int Count => _tokens.Count;

    /// <summary>A new token for <paramref name="user"/>, valid for <paramref name="ttl"/> after each use.</summary>
    public string Issue(string user, long revision, TimeSpan ttl)
    {
        EnsureSweeper();
        while (true)
        {
            var token = string.Create(PrefixLength, 0, static (span, _) =>
            {
                for (var i = 0; i < span.Length; i++)
                {
                    span[i] = Letters[RandomNumberGenerator.GetInt32(Letters.Length)];
                }
            }) + "." + revision.ToString(System.Globalization.CultureInfo.InvariantCulture);
            if (_tokens.TryAdd(token, new Entry(user, revision, ttl.Ticks, Now() + ttl.Ticks)))
            {
                return token;
            }
        }
    }

    /// <summary>The token's user and revision at issue, refreshing its lifetime; null when unknown or expired.</summary>
    public (string User, long Revision)? Use(string token)
    {
        if (!_tokens.TryGetValue(token, out var e))
        {
            return null;
        }

        var now = Now();
        if (now >= e.Expires)
        {
            _tokens.TryRemove(token, out _);
            return null;
        }

        e.Expires = now + e.TtlTicks;
        return (e.User, e.Revision);
    }

    /// <summary>Forgets <paramref name="token"/> (its user changed since it was issued).</summary>
    public void Drop(string token) => _tokens.TryRemove(token, out _);

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
