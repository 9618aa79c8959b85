using RaftKv.Storage.Tables;
using static RaftKv.Storage.Tests.Helpers;

namespace RaftKv.Storage.Tests.Components;

public sealed class BlockCacheTests
{
    private static DataBlock Block(int valueBytes)
    {
        var b = new DataBlockBuilder();
        b.Add(new InternalEntry(B("k"), new byte[valueBytes], 1, 0, false));
        return new DataBlock(b.Finish(), "t");
    }

    [Fact]
    public void LeastRecentlyUsedBlocksAreEvictedFirstWithinTheByteBudget()
    {
        var one = Block(1000);
        var cache = new BlockCache((one.SizeInBytes * 3) + 10);
        cache.Add(1, 0, one);
        cache.Add(1, 100, Block(1000));
        cache.Add(1, 200, Block(1000));
        Assert.NotNull(cache.TryGet(1, 0)); // 0 is now the most recently used

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
}
