using RaftKv.Storage.Tables;
using Xunit.Abstractions;
using static RaftKv.Storage.Tests.Helpers;

namespace RaftKv.Storage.Tests.Components;

/// <summary>The block cache's accounting: hits, misses, evictions, promotions and bytes, and its byte
/// bound, including under a seeded random workload checked against a recount.</summary>
public sealed class BlockCacheAccountingTests(ITestOutputHelper output)
{
    private static DataBlock Block(int entries, int valueBytes)
    {
        var b = new DataBlockBuilder();
        for (var i = 0; i < entries; i++)
        {
            b.Add(B($"k{i:D5}"), new byte[valueBytes], i + 1, 0, false);
        }

        return new DataBlock(b.Finish().ToArray(), "t.sst");
    }

    [Fact]
    public void CountsHitsMissesAndPeeksNothing()
    {
        var cache = new BlockCache(1 << 20);
        Assert.Null(cache.TryGet(1, 0));
        var block = Block(10, 10);
        cache.Add(1, 0, block);
        Assert.Same(block, cache.TryGet(1, 0));
        Assert.Same(block, cache.TryGet(1, 0));
        Assert.Null(cache.TryGet(1, 4096));
        Assert.Same(block, cache.TryPeek(1, 0));
        Assert.Null(cache.TryPeek(2, 0));
        Assert.Equal((2L, 2L, 0L, 1L, 0L), (cache.Hits, cache.Misses, cache.Evictions, cache.Inserts, cache.Promotions));
        Assert.Equal(block.SizeInBytes, cache.Bytes);
        Assert.Equal(1, cache.Count);
    }

    [Fact]
    public void EvictsToStayWithinCapacityAndGivesUsedBlocksASecondChance()
    {
        var size = Block(10, 100).SizeInBytes;
        var cache = new BlockCache(4 * size);
        for (var i = 0; i < 4; i++)
        {
            cache.Add(1, i * 4096, Block(10, 100));
        }

        Assert.Equal(4 * size, cache.Bytes);
        Assert.Equal(0, cache.Evictions);
        Assert.NotNull(cache.TryGet(1, 0)); // block 0 used: survives the next eviction
        cache.Add(1, 4 * 4096, Block(10, 100));
        Assert.Equal(1, cache.Evictions);
        Assert.True(cache.Bytes <= cache.CapacityBytes);
        Assert.NotNull(cache.TryPeek(1, 0));
        Assert.Null(cache.TryPeek(1, 4096)); // the oldest unused block went
    }

    [Fact]
    public void BlocksLargerThanTheCacheAndAZeroCapacityCacheHoldNothing()
    {
        var big = Block(100, 1000);
        var small = new BlockCache(big.SizeInBytes / 2);
        small.Add(1, 0, big);
        Assert.Equal((0L, 0, 0L), (small.Bytes, small.Count, small.Evictions));
        var none = new BlockCache(0);
        none.Add(1, 0, Block(1, 1));
        Assert.Equal(0, none.Count);
    }

    [Fact]
    public void PromotionsAndTableEvictionAreCounted()
    {
        var cache = new BlockCache(1 << 20);
        cache.Add(1, 0, Block(5, 5), fromObjectStore: true);
        cache.Add(1, 100, Block(5, 5));
        cache.Add(2, 0, Block(5, 5), fromObjectStore: true);
        Assert.Equal(2, cache.Promotions);
        cache.Evict(1);
        Assert.Equal(1, cache.Count);
        Assert.Equal(Block(5, 5).SizeInBytes, cache.Bytes);
        Assert.Equal(0, cache.Evictions); // dropping a deleted table's blocks is not an eviction for space
    }

    [Fact]
    public void RandomWorkloadKeepsTheBoundAndTheCountsConsistent()
    {
        var seed = int.TryParse(Environment.GetEnvironmentVariable("RAFTKV_SEED"), out var s) ? s : Environment.TickCount & 0xFFFF;
        output.WriteLine($"seed {seed} (rerun with RAFTKV_SEED={seed})");
        var rng = new Random(seed);
        var capacity = 64L << 10;
        var cache = new BlockCache(capacity);
        long lookups = 0, added = 0, removedWithTables = 0;
        for (var step = 0; step < 5_000; step++)
        {
            var table = rng.Next(8);
            var offset = rng.Next(40) * 4096L;
            var roll = rng.Next(100);
            if (roll < 60)
            {
                lookups++;
                _ = cache.TryGet(table, offset);
            }
            else if (roll < 98)
            {
                var block = Block(rng.Next(1, 20), rng.Next(0, 600));
                var before = cache.Inserts;
                cache.Add(table, offset, block);
                if (cache.Inserts > before)
                {
                    added++;
                }
            }
            else
            {
                var held = Enumerable.Range(0, 40).Count(o => cache.TryPeek(table, o * 4096L) is not null);
                removedWithTables += held;
                cache.Evict(table);
            }

            Assert.True(cache.Bytes <= capacity, $"step {step}: {cache.Bytes} bytes in a {capacity}-byte cache (seed {seed})");
        }

        Assert.Equal(lookups, cache.Hits + cache.Misses);
        Assert.Equal(added, cache.Count + cache.Evictions + removedWithTables);
        var recount = 0L;
        for (var t = 0; t < 8; t++)
        {
            for (var o = 0; o < 40; o++)
            {
                if (cache.TryPeek(t, o * 4096L) is { } b)
                {
                    recount += b.SizeInBytes;
                }
            }
        }

        Assert.Equal(recount, cache.Bytes);
    }
}
