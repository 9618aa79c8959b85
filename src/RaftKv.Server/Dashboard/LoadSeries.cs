namespace RaftKv.Server.Dashboard;

/// <summary>
/// One operation's ring of per-second slots (<see cref="LoadSampler.WindowSeconds"/> of them, slot =
/// unix second mod the window; a slot stamped with an older second is reset before reuse). Latencies go
/// into log-spaced buckets: bucket i holds (b(i-1), b(i)] with b(i) = 10 µs × 2^(i/4), so a reported
/// percentile (the upper bound of the bucket holding that rank) is at most 19 % above the true value;
/// the last bucket also takes everything above ~2.9 min. Thread-safe (one lock per series).
/// </summary>
public sealed class LoadSeries
{
    private const double MinSeconds = 10e-6;
    private const int Buckets = 96;

    private readonly Slot[] _slots = new Slot[LoadSampler.WindowSeconds];
    private readonly Lock _lock = new();

    public void RecordLatency(long second, double seconds)
    {
        var bucket = seconds <= MinSeconds ? 0 : Math.Min(Buckets - 1, (int)Math.Ceiling(4 * Math.Log2(seconds / MinSeconds)));
        lock (_lock)
        {
            var slot = SlotFor(second);
            slot.Count++;
            slot.Histogram[bucket]++;
        }
    }

    public void RecordError(long second)
    {
        lock (_lock)
        {
            SlotFor(second).Errors++;
        }
    }

    /// <summary>Points for every second in [first, last].</summary>
    public IReadOnlyList<LoadSnapshot.Point> Points(long first, long last)
    {
        var points = new List<LoadSnapshot.Point>((int)(last - first + 1));
        lock (_lock)
        {
            for (var t = first; t <= last; t++)
            {
                var slot = _slots[Index(t)];
                points.Add(slot is null || slot.Second != t
                    ? new LoadSnapshot.Point(t, 0, 0, null, null, null)
                    : new LoadSnapshot.Point(t, slot.Count, slot.Errors, Percentile(slot, 0.50), Percentile(slot, 0.90), Percentile(slot, 0.99)));
            }
        }

        return points;
    }

    /// <summary>The upper bound in milliseconds of the bucket holding rank ⌈q × count⌉; null without samples.</summary>
    private static double? Percentile(Slot slot, double q)
    {
        if (slot.Count == 0)
        {
            return null;
        }

        var rank = Math.Max(1, (long)Math.Ceiling(q * slot.Count));
        long seen = 0;
        for (var i = 0; i < Buckets; i++)
        {
            seen += slot.Histogram[i];
            if (seen >= rank)
            {
                return Math.Round(MinSeconds * Math.Pow(2, i / 4.0) * 1000, 3);
            }
        }

        return null; // unreachable: the histogram holds Count samples
    }

    private static int Index(long second) => (int)(((second % LoadSampler.WindowSeconds) + LoadSampler.WindowSeconds) % LoadSampler.WindowSeconds);

    private Slot SlotFor(long second)
    {
        ref var slot = ref _slots[Index(second)];
        slot ??= new Slot();
        if (slot.Second != second)
        {
            slot.Second = second;
            slot.Count = 0;
            slot.Errors = 0;
            Array.Clear(slot.Histogram);
        }

        return slot;
    }

    private sealed class Slot
    {
        public long Second { get; set; } = -1;

        public long Count { get; set; }

        public long Errors { get; set; }

        public long[] Histogram { get; } = new long[Buckets];
    }
}
