using RaftKv.Storage.Tables;
using static RaftKv.Storage.Tests.Helpers;

namespace RaftKv.Storage.Tests.Components;

public sealed class BloomFilterTests
{
    [Fact]
    public void NoFalseNegativesAndAFalsePositiveRateNearTheDesign()
    {
        var present = Enumerable.Range(0, 10_000).Select(i => BloomFilter.Hash(B($"present/{i}"))).ToList();
        var filter = BloomFilter.Parse(BloomFilter.Build(present).Serialize()); // through the on-disk form
        Assert.All(present, h => Assert.True(filter.MayContain(h)));

        var falsePositives = Enumerable.Range(0, 20_000).Count(i => filter.MayContain(BloomFilter.Hash(B($"absent/{i}"))));
        var rate = falsePositives / 20_000.0;

        // ~10 bits per key gives about 1 %; the keys are fixed, so this is deterministic.
        Assert.True(rate < 0.03, $"false-positive rate {rate:P2}");
        Assert.True(rate > 0, "a filter that never says 'maybe' for absent keys is not a bloom filter of this size");
    }

    [Fact]
    public void ProbePositionsAreExactlyTheRemainderSoTheFormatIsUnchanged()
    {
        var rng = new Random(4);
        uint[] divisors = [1, 2, 3, 7, 64, 640, 1_000_003, 80_000_000, int.MaxValue, uint.MaxValue - 1, uint.MaxValue];
        uint[] values = [0, 1, 2, 63, 64, 65, int.MaxValue, (uint)int.MaxValue + 1, uint.MaxValue - 1, uint.MaxValue];
        foreach (var d in divisors.Concat(Enumerable.Range(0, 200).Select(_ => (uint)rng.NextInt64(1, uint.MaxValue))))
        {
            var m = BloomFilter.ModMultiplier(d);
            foreach (var v in values.Concat(Enumerable.Range(0, 200).Select(_ => (uint)rng.NextInt64(0, (long)uint.MaxValue + 1))))
            {
                Assert.Equal(v % d, BloomFilter.Mod(v, d, m));
            }
        }
    }

    [Fact]
    public void MoreBitsPerKeyMeansFewerFalsePositives()
    {
        var present = Enumerable.Range(0, 5_000).Select(i => BloomFilter.Hash(B($"k{i}"))).ToList();
        int Fp(int bits)
        {
            var f = BloomFilter.Build(present, bits);
            return Enumerable.Range(0, 20_000).Count(i => f.MayContain(BloomFilter.Hash(B($"q{i}"))));
        }

        Assert.True(Fp(16) < Fp(4), "16 bits/key should beat 4 bits/key");
    }

    [Fact]
    public void AnEmptyFilterRejectsEverything()
    {
        var f = BloomFilter.Parse(BloomFilter.Build([]).Serialize());
        Assert.False(f.MayContain(BloomFilter.Hash(B("anything"))));
    }
}
