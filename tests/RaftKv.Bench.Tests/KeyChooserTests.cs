using RaftKv.Bench.Load;

namespace RaftKv.Bench.Tests;

public sealed class KeyChooserTests
{
    private const int Seed = 1234;

    [Theory]
    [InlineData("uniform")]
    [InlineData("zipf")]
    public void Keys_stay_in_the_key_space(string distribution)
    {
        var chooser = new KeyChooser(1000, distribution);
        var rng = new Random(Seed);
        for (var i = 0; i < 100_000; i++)
        {
            Assert.InRange(chooser.Next(rng), 0, 999);
        }
    }

    [Fact]
    public void Zipf_ranks_are_skewed_towards_rank_zero()
    {
        var chooser = new KeyChooser(100_000, "zipf");
        var rng = new Random(Seed);
        var counts = new int[100_000];
        for (var i = 0; i < 200_000; i++)
        {
            counts[chooser.Rank(rng.NextDouble())]++;
        }

        // theta 0.99 over 100 000 keys: rank 0 takes about 1/zeta(n) ≈ 8 % of draws, rank 1 about half of that,
        // and the top 1 % of ranks well over half of all draws; a uniform draw would give each 0.001 %.
        Assert.True(counts[0] > counts[1] && counts[1] > counts[10], $"seed {Seed}: {counts[0]} {counts[1]} {counts[10]}");
        Assert.True(counts[..1000].Sum() > 100_000, $"seed {Seed}: top 1 % of ranks drew {counts[..1000].Sum()} of 200000");
    }

    [Fact]
    public void Scrambling_spreads_the_popular_ranks_over_the_key_space()
    {
        var chooser = new KeyChooser(1_000_000, "zipf");
        var hot = Enumerable.Range(0, 100).Select(r => chooser.Scramble(r)).ToList();
        Assert.All(hot, k => Assert.InRange(k, 0, 999_999));
        Assert.True(hot.Count(k => k < 100_000) < 50, "the 100 most popular keys are not all among the first 10 % written");
        Assert.True(hot.Distinct().Count() > 95);
    }

    [Fact]
    public void Unknown_distribution_or_theta_out_of_range_is_refused()
    {
        Assert.Throws<ArgumentException>(() => new KeyChooser(10, "pareto"));
        Assert.Throws<ArgumentOutOfRangeException>(() => new KeyChooser(10, "zipf", 1.0));
    }
}
