using RaftKv.Storage.Tables;
using static RaftKv.Storage.Tests.Helpers;

namespace RaftKv.Storage.Tests.Components;

public sealed class BlockCacheTests
{
    private static DataBlock Block(int valueBytes)
    {
        var b = new DataBlockBuilder();
        b.Add(new InternalEntry(B("k"), new byte[valueBytes], 1, 0, false));
        return new DataBlock(b.Finish().ToArray(), "t");
    }

    [Fact]
    public void BlocksUsedSinceTheLastSweepGetASecondChanceWithinTheByteBudget()
    {
        var one = Block(1000);
        var cache = new BlockCache((one.SizeInBytes * 3) + 10);
        cache.Add(1, 0, one);
        cache.Add(1, 100, Block(1000));
        cache.Add(1, 200, Block(1000));
        Assert.NotNull(cache.TryGet(1, 0)); // 0 is referenced: the sweep spares it once

        cache.Add(2, 0, Block(1000)); // over budget: evicts (1, 100)
        Assert.Null(cache.TryGet(1, 100));
        Assert.NotNull(cache.TryGet(1, 0));
        Assert.NotNull(cache.TryGet(1, 200));
        Assert.NotNull(cache.TryGet(2, 0));
        Assert.True(cache.Bytes <= (one.SizeInBytes * 3) + 10, $"cache holds {cache.Bytes} bytes");
    }

    [Fact]
    public void HitsAndMissesAreCounted()
    {
        var cache = new BlockCache(1 << 20);
        Assert.Null(cache.TryGet(7, 0));
        cache.Add(7, 0, Block(10));
        Assert.NotNull(cache.TryGet(7, 0));
        Assert.NotNull(cache.TryGet(7, 0));
        Assert.Equal(2, cache.Hits);
        Assert.Equal(1, cache.Misses);
    }

    [Fact]
    public void EvictingATableDropsOnlyItsBlocks()
    {
        var cache = new BlockCache(1 << 20);
        cache.Add(1, 0, Block(10));
        cache.Add(1, 64, Block(10));
        cache.Add(2, 0, Block(10));
        cache.Evict(1);
        Assert.Null(cache.TryGet(1, 0));
        Assert.Null(cache.TryGet(1, 64));
        Assert.NotNull(cache.TryGet(2, 0));
    }

    [Fact]
    public void AZeroBudgetCachesNothing()
    {
        var cache = new BlockCache(0);
        cache.Add(1, 0, Block(10));
        Assert.Null(cache.TryGet(1, 0));
        Assert.Equal(0, cache.Bytes);
    }

    [Fact]
    public async Task LookupsRaceSafelyWithInsertionsAndEvictions()
    {
        var block = Block(100);
        var cache = new BlockCache(block.SizeInBytes * 8);
        using var stop = new CancellationTokenSource();
        using var started = new CountdownEvent(3);
        var readers = Enumerable.Range(0, 3).Select(r => Task.Run(() =>
        {
            var rng = new Random(r);
            long found = 0, probes = 0;
            started.Signal();
            while (!stop.IsCancellationRequested)
            {
                probes++;
                if (cache.TryGet(rng.Next(4), rng.Next(64) * 100) is { } b)
                {
                    Assert.Same(block, b);
                    found++;
                }
            }

            return (found, probes);
        })).ToList();
        started.Wait(TimeSpan.FromSeconds(30));

        for (var i = 0; i < 20_000; i++)
        {
            cache.Add(i % 4, i % 64 * 100, block);
            if (i % 1000 == 999)
            {
                cache.Evict(i % 4);
            }

            Assert.True(cache.Bytes <= block.SizeInBytes * 8, $"over budget: {cache.Bytes}");
        }

        await stop.CancelAsync();
        var results = await Task.WhenAll(readers);
        Assert.Equal(results.Sum(r => r.found), cache.Hits);
        Assert.Equal(results.Sum(r => r.probes), cache.Hits + cache.Misses);
    }
}
