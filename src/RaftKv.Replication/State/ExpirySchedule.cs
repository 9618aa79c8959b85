namespace RaftKv.Replication.State;

/// <summary>
/// When the idle leader must next tick for per-key TTLs: the expiries of the TTL puts this node applied, rounded up to
/// <see cref="GranularityMs"/> (<c>KvState.TtlHorizon.cs</c> keeps only the latest one). A key written with a TTL expires
/// on reads once the logical clock passes its expiry, and only an entry moves the clock, so an idle cluster holding TTL
/// keys needs an entry soon after each expiry — not one every tick interval until the last has passed.
/// </summary>
/// <remarks>
/// <para><b>Node-local, not replicated, not on disk.</b> It only decides when the leader proposes a tick, never what an
/// entry does; replicas need not agree on it. Overwritten or deleted keys leave their expiry in it (at worst one
/// needless tick).</para>
/// <para><b>Complete or not.</b> After the store was opened or a snapshot installed, keys written before may still be
/// live with expiries this node never saw: until the logical clock reaches the horizon loaded then (every such key has
/// expired by it) <see cref="TickDue"/> answers "tick" as ticks did before this schedule existed — or until a rebuild
/// (<c>KvState.RebuildExpirySchedule</c>: one scan of the keys' metadata) has added them — and so it does for an
/// unknown horizon (<see cref="long.MaxValue"/>, never rebuilt). A full schedule (<see cref="DefaultMaxBuckets"/> buckets: expiries spread
/// over more than ~3.6 hours at 100 ms) doubles its rounding and merges buckets, up to a minute; beyond, it overflows and
/// answers "tick" the same way until the clock passes the horizon.</para>
/// <para><b>Concurrency.</b> The applier calls <see cref="Reset"/> and <see cref="Add"/>; the tick loop calls
/// <see cref="TickDue"/>. Every field is guarded by <c>_lock</c>. Both drop the buckets the clock has passed, so a
/// follower's schedule stays as small as the leader's.</para>
/// </remarks>
internal sealed class ExpirySchedule(int maxBuckets = ExpirySchedule.DefaultMaxBuckets)
{
    /// <summary>Expiries are kept rounded up to this at first (a tick at or after a bucket passes every expiry in it).</summary>
    public const long GranularityMs = 100;

    /// <summary>The coarsest rounding: beyond it, a full schedule stops scheduling (and the leader ticks every interval).</summary>
    public const long MaxGranularityMs = 60_000;

    /// <summary>At most this many buckets (a few MiB); a full schedule doubles its rounding and merges its buckets.</summary>
    public const int DefaultMaxBuckets = 1 << 17;

    private readonly object _lock = new();
    private readonly SortedSet<long> _buckets = [];
    private long _granularity = GranularityMs;
    private long _incompleteUntil; // the schedule may lack live expiries while the logical clock is below this
    private long _maxAdded; // the latest expiry added since the last clear (the horizon a caller read may predate it)
    private long _generation; // counts Resets: a rebuild that started before one must not complete the schedule
    private bool _overflow;

    /// <summary>Buckets held (tests).</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _buckets.Count;
            }
        }
    }

    /// <summary>The current rounding of expiries (ms; tests).</summary>
    public long Granularity
    {
        get
        {
            lock (_lock)
            {
                return _granularity;
            }
        }
    }

    /// <summary>The store was opened or replaced by a snapshot whose TTL horizon is <paramref name="horizon"/>: keys
    /// written before may expire up to it, unseen by this schedule.</summary>
    public void Reset(long horizon, long clock)
    {
        lock (_lock)
        {
            Clear();
            _generation++;
            _incompleteUntil = horizon > clock ? horizon : 0;
        }
    }

    /// <summary>Whether the schedule may lack live expiries at logical clock <paramref name="clock"/> that a rebuild would add
    /// (never for an unknown horizon), and the generation a rebuild must present to <see cref="AddRebuilt"/> and
    /// <see cref="CompleteRebuild"/>.</summary>
    public bool NeedsRebuild(long clock, out long generation)
    {
        lock (_lock)
        {
            generation = _generation;
            return clock < _incompleteUntil && _incompleteUntil != long.MaxValue;
        }
    }

    /// <summary>A rebuild's scan found a live key expiring at <paramref name="expiresAtUnixMs"/>; ignored when the schedule was
    /// reset since the rebuild began.</summary>
    public void AddRebuilt(long generation, long expiresAtUnixMs, long clock)
    {
        lock (_lock)
        {
            if (generation == _generation)
            {
                Add(expiresAtUnixMs, clock);
            }
        }
    }

    /// <summary>A rebuild's scan of one point-in-time view is over: every key live in that view was added, and every TTL put
    /// applied after it adds itself, so the schedule is complete — unless it was reset since the rebuild began.</summary>
    public bool CompleteRebuild(long generation)
    {
        lock (_lock)
        {
            if (generation != _generation)
            {
                return false;
            }

            _incompleteUntil = 0;
            return true;
        }
    }

    /// <summary>A TTL put expiring at <paramref name="expiresAtUnixMs"/> was applied at logical clock <paramref name="clock"/>.</summary>
    public void Add(long expiresAtUnixMs, long clock)
    {
        lock (_lock)
        {
            DropPassed(clock);
            _maxAdded = Math.Max(_maxAdded, expiresAtUnixMs);
            while (!_overflow)
            {
                var bucket = RoundUp(expiresAtUnixMs, _granularity);
                if (_buckets.Count < maxBuckets || _buckets.Contains(bucket))
                {
                    _buckets.Add(bucket);
                    return;
                }

                Coarsen();
            }
        }
    }

    /// <summary>Whether the idle leader should tick now (<paramref name="nowUnixMs"/>, the time a tick would carry), given the
    /// applied logical clock and TTL horizon: some expiry is due and not yet passed by the clock, or the schedule is not
    /// complete. Drops the buckets the clock has passed.</summary>
    public bool TickDue(long nowUnixMs, long clock, long horizon)
    {
        lock (_lock)
        {
            // Every TTL key written so far has expired: complete again. (The horizon was read before this lock: an expiry
            // added since, which raised it, must not be cleared with the old value.)
            if (horizon <= clock && _maxAdded <= clock)
            {
                Clear();
                _incompleteUntil = 0;
                return false;
            }

            if (_overflow || clock < _incompleteUntil)
            {
                return true;
            }

            DropPassed(clock);
            return _buckets.Count > 0 && _buckets.Min <= nowUnixMs;
        }
    }

    private static long RoundUp(long value, long granularity) => (value + granularity - 1) / granularity * granularity;

    /// <summary>Doubles the rounding and merges the buckets (each rounded up again: still at or after its expiries); past
    /// <see cref="MaxGranularityMs"/>, gives up: overflow.</summary>
    private void Coarsen()
    {
        if (_granularity * 2 > MaxGranularityMs)
        {
            _overflow = true;
            _buckets.Clear();
            return;
        }

        _granularity *= 2;
        var old = _buckets.ToArray();
        _buckets.Clear();
        foreach (var b in old)
        {
            _buckets.Add(RoundUp(b, _granularity));
        }
    }

    private void DropPassed(long clock)
    {
        while (_buckets.Count > 0 && _buckets.Min <= clock)
        {
            _buckets.Remove(_buckets.Min);
        }
    }

    private void Clear()
    {
        _maxAdded = 0;
        _buckets.Clear();
        _overflow = false;
        _granularity = GranularityMs;
    }
}
