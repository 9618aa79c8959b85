using static RaftKv.Storage.Tests.Helpers;

namespace RaftKv.Storage.Tests.Components;

public sealed class MergingIteratorTests
{
    private static async IAsyncEnumerable<InternalEntry> Source(params (string Key, string Value, bool Tombstone)[] entries)
    {
        foreach (var (k, v, t) in entries)
        {
            await Task.Yield();
            yield return new InternalEntry(B(k), B(v), 1, 0, t);
        }
    }

    [Fact]
    public async Task MergesInKeyOrderAndTheNewestSourceWinsEachKey()
    {
        // Source 0 is the newest (memtable), then older tables.
        var newest = Source(("b", "b-new", false), ("d", "", true));
        var middle = Source(("a", "a-mid", false), ("b", "b-mid", false), ("e", "e-mid", false));
        var oldest = Source(("c", "c-old", false), ("d", "d-old", false), ("e", "e-old", false));
        var merged = new List<(string, string, bool, int)>();
        await foreach (var (e, src) in MergingIterator.MergeWithSourceAsync([newest, middle, oldest]))
        {
            merged.Add((S(e.Key), S(e.Value), e.Tombstone, src));
        }

        Assert.Equal(
            [("a", "a-mid", false, 1), ("b", "b-new", false, 0), ("c", "c-old", false, 2), ("d", "", true, 0), ("e", "e-mid", false, 1)],
            merged);
    }

    [Fact]
    public async Task EmptySourcesAreFine()
    {
        var merged = new List<string>();
        await foreach (var e in MergingIterator.MergeAsync([Source(), Source(("x", "1", false)), Source()]))
        {
            merged.Add(S(e.Key));
        }

        Assert.Equal(["x"], merged);
    }
}
