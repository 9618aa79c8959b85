using System.Collections.Concurrent;
using RaftKv.Replication.Api;

namespace RaftKv.Replication.Leases;

/// <summary>
/// The leader's side of leases (etcd's lessor): when each lease expires. Local, never replicated: expiry
/// is judged on this node's monotonic clock (<see cref="TimeProvider.GetTimestamp"/>), keep-alives only
/// move it here, and an expired lease is removed from the replicated state by a proposed
/// <see cref="Commands.CommandKind.LeaseRevoke"/>, so every replica deletes the same keys at the same index.
/// </summary>
/// <remarks>
/// <para>Primary: only a node that <see cref="Promote"/>d for the current term judges expiry or renews. On
/// promotion every lease's expiry is reset to now + its TTL (+ an election timeout), as etcd's
/// <c>Promote</c> does: a lease kept alive on the old leader is never expired by the change, at the cost
/// of living up to one TTL longer. A lease granted while primary gets now + TTL the first time the lessor
/// sees it in the table (<see cref="Track"/>).</para>
/// <para>Thread safety: every member may be called concurrently.</para>
/// </remarks>
internal sealed class Lessor(LeaseTable table, TimeProvider time)
{
    /// <summary>After this long, a revoke proposed for an expired lease that is still in the table is proposed again (etcd: 3 s).</summary>
    public static readonly TimeSpan RevokeRetry = TimeSpan.FromSeconds(3);

    private readonly ConcurrentDictionary<long, long> _expiry = new();
    private readonly ConcurrentDictionary<long, long> _revoking = new();
    private long _primaryTerm;

    /// <summary>The term this node was promoted in (0 = not primary).</summary>
    public long PrimaryTerm => Interlocked.Read(ref _primaryTerm);

    /// <summary>Becomes primary for <paramref name="term"/>: every lease expires TTL (or its checkpointed
    /// remaining TTL) + <paramref name="extend"/> from now. Call once this node has applied everything
    /// committed before its term (its table is current).</summary>
    public void Promote(long term, TimeSpan extend)
    {
        _expiry.Clear();
        _revoking.Clear();
        var now = time.GetTimestamp();
        foreach (var r in table.All())
        {
            var ttl = r.RemainingSeconds > 0 ? Math.Min(r.RemainingSeconds, r.TtlSeconds) : r.TtlSeconds;
            _expiry[r.Id] = After(now, TimeSpan.FromSeconds(ttl) + extend);
        }

        Interlocked.Exchange(ref _primaryTerm, term);
    }

    /// <summary>Stops judging expiry (lost leadership).</summary>
    public void Demote()
    {
        Interlocked.Exchange(ref _primaryTerm, 0);
        _expiry.Clear();
        _revoking.Clear();
    }

    /// <summary>Keep-alive: the lease expires its TTL from now. Returns the TTL (seconds). Throws
    /// <see cref="LeaseNotFoundException"/> for a lease not granted, or already expired (its revoke is
    /// under way, as etcd answers).</summary>
    public long Renew(long id)
    {
        var r = table.Find(id) ?? throw new LeaseNotFoundException(id);
        var now = time.GetTimestamp();
        if (_expiry.TryGetValue(id, out var at) && at <= now)
        {
            throw new LeaseNotFoundException(id);
        }

        _expiry[id] = After(now, TimeSpan.FromSeconds(r.TtlSeconds));
        return r.TtlSeconds;
    }

    /// <summary>Whole seconds until <paramref name="id"/> expires, truncated as etcd's <c>LeaseTimeToLive</c>
    /// (<c>int64(Remaining().Seconds())</c>: 9 just after a grant of 10; 0 ≤ remaining ≤ TTL), or null when it is not granted.</summary>
    public long? Remaining(long id)
    {
        if (table.Find(id) is not { } r)
        {
            return null;
        }

        var now = time.GetTimestamp();
        // Asked before Track started the lease's clock: the grant was applied before now, so less than the TTL is
        // left (one tick less), as etcd answers (remaining 599 right after a grant of 600), never the TTL itself.
        var at = _expiry.GetOrAdd(id, _ => After(now, TimeSpan.FromSeconds(r.TtlSeconds)) - 1);
        var left = time.GetElapsedTime(now, at);
        // Reported at most the granted TTL: right after a promotion the lease really has up to an
        // election timeout more, and a client is better told too little than too much.
        return at <= now ? 0 : Math.Min(r.TtlSeconds, (long)Math.Floor(left.TotalSeconds));
    }

    /// <summary>Starts the clock of leases granted since the last call, forgets revoked ones, and returns
    /// at most <paramref name="max"/> expired leases to revoke (each again only after <see cref="RevokeRetry"/>).</summary>
    public IReadOnlyList<long> Track(int max)
    {
        var now = time.GetTimestamp();
        foreach (var r in table.All())
        {
            _expiry.TryAdd(r.Id, After(now, TimeSpan.FromSeconds(r.TtlSeconds)));
        }

        var expired = new List<long>();
        foreach (var (id, at) in _expiry)
        {
            if (!table.Contains(id))
            {
                _expiry.TryRemove(id, out _);
                _revoking.TryRemove(id, out _);
                continue;
            }

            if (at > now || expired.Count >= max)
            {
                continue;
            }

            if (_revoking.TryGetValue(id, out var since) && time.GetElapsedTime(since, now) < RevokeRetry)
            {
                continue;
            }

            _revoking[id] = now;
            expired.Add(id);
        }

        return expired;
    }

    /// <summary>Forgets a lease this node revoked.</summary>
    public void Forget(long id)
    {
        _expiry.TryRemove(id, out _);
        _revoking.TryRemove(id, out _);
    }

    private long After(long now, TimeSpan span)
    {
        var ticks = span.TotalSeconds * time.TimestampFrequency;
        return ticks >= long.MaxValue - now ? long.MaxValue : now + (long)ticks;
    }
}
