namespace RaftKv.Bench.Load;

/// <summary>
/// Picks key indexes in [0, <c>count</c>): <c>uniform</c>, or <c>zipf</c> — YCSB's scrambled Zipfian: a rank
/// drawn from a Zipf distribution with exponent <c>theta</c> (Gray et al., "Quickly generating billion-record
/// synthetic databases", the generator YCSB uses; rank 0 is the most popular), then hashed (FNV-1a 64) onto the
/// key space so the popular keys are spread over it instead of being the first keys written (which a tiered
/// store archives first). Shared by every client (immutable after construction); each client passes its own
/// <see cref="Random"/>.
/// </summary>
public sealed class KeyChooser
{
    private readonly long _count;
    private readonly bool _zipf;
    private readonly double _alpha, _zetaN, _eta, _half;

    public KeyChooser(long count, string distribution, double theta = 0.99)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        _count = count;
        _zipf = distribution switch
        {
            "uniform" => false,
            "zipf" => true,
            _ => throw new ArgumentException($"unknown distribution '{distribution}' (uniform or zipf)", nameof(distribution)),
        };
        if (!_zipf)
        {
            return;
        }

        if (theta is <= 0 or >= 1)
        {
            throw new ArgumentOutOfRangeException(nameof(theta), theta, "zipf theta must be in (0, 1)");
        }

        _alpha = 1 / (1 - theta);
        _zetaN = Zeta(count, theta);
        _eta = (1 - Math.Pow(2.0 / count, 1 - theta)) / (1 - (Zeta(2, theta) / _zetaN));
        _half = 1 + Math.Pow(0.5, theta);
    }

    /// <summary>uniform | zipf.</summary>
    public string Distribution => _zipf ? "zipf" : "uniform";

    /// <summary>The next key index.</summary>
    public long Next(Random rng)
    {
        if (!_zipf)
        {
            return rng.NextInt64(_count);
        }

        return Scramble(Rank(rng.NextDouble()));
    }

    /// <summary>The Zipf rank for a uniform draw <paramref name="u"/> in [0, 1): 0 is the most popular.</summary>
    public long Rank(double u)
    {
        var uz = u * _zetaN;
        if (uz < 1)
        {
            return 0;
        }

        if (uz < _half)
        {
            return 1;
        }

        return Math.Min(_count - 1, (long)(_count * Math.Pow((_eta * u) - _eta + 1, _alpha)));
    }

    /// <summary>Spreads rank <paramref name="rank"/> over the key space (FNV-1a 64 of its 8 bytes, modulo the count).</summary>
    public long Scramble(long rank)
    {
        var h = 14695981039346656037UL;
        for (var i = 0; i < 8; i++)
        {
            h = (h ^ (byte)(rank >> (8 * i))) * 1099511628211UL;
        }

        return (long)(h % (ulong)_count);
    }

    private static double Zeta(long n, double theta)
    {
        var sum = 0.0;
        for (long i = 1; i <= n; i++)
        {
            sum += 1 / Math.Pow(i, theta);
        }

        return sum;
    }
}
