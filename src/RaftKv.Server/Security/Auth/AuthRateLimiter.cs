using System.Collections.Concurrent;

namespace RaftKv.Server.Security.Auth;

/// <summary>
/// Brute-force guard on Authenticate (and HTTP Basic): per user name and per client address, at most N
/// failures within a sliding window; beyond that every attempt for that user or from that address is
/// refused without checking the password (etcd's "too many requests") until old failures leave the window.
/// Node-local (each node counts the attempts it verified). Bounded memory: entries are dropped once their
/// window is empty, and at most <see cref="MaxTracked"/> keys are tracked (then the oldest are evicted).
/// </summary>
public sealed class AuthRateLimiter(AuthOptions options, TimeProvider time)
{
    public const int MaxTracked = 100_000;

    private readonly ConcurrentDictionary<string, Queue<DateTimeOffset>> _failures = new(StringComparer.Ordinal);

    /// <summary>True when the user or the address has used up its failures.</summary>
    public bool IsBlocked(string user, string? address)
        => Count("u:" + user) >= options.MaxFailuresPerUser || (address is not null && Count("a:" + address) >= options.MaxFailuresPerAddress);

    public void RecordFailure(string user, string? address)
    {
        Add("u:" + user);
        if (address is not null)
        {
            Add("a:" + address);
        }
    }

    private int Count(string key)
    {
        if (!_failures.TryGetValue(key, out var q))
        {
            return 0;
        }

        lock (q)
        {
            Trim(q);
            return q.Count;
        }
    }

    private void Add(string key)
    {
        if (_failures.Count >= MaxTracked)
        {
            foreach (var k in _failures.Keys.Take(MaxTracked / 10))
            {
                _failures.TryRemove(k, out _);
            }
        }

        var q = _failures.GetOrAdd(key, _ => new Queue<DateTimeOffset>());
        lock (q)
        {
            Trim(q);
            q.Enqueue(time.GetUtcNow());
        }
    }

    private void Trim(Queue<DateTimeOffset> q)
    {
        var horizon = time.GetUtcNow() - options.FailureWindow;
        while (q.Count > 0 && q.Peek() <= horizon)
        {
            q.Dequeue();
        }
    }
}
