using RaftKv.Storage.Memtables;
using static RaftKv.Storage.Tests.Helpers;

namespace RaftKv.Storage.Tests.Components;

public sealed class MemtableTests
{
    private static InternalEntry Put(string key, string value, long version) => new(B(key), B(value), version, 0, false);

    [Fact]
    public void PointInTimeReadsSeeTheNewestVersionAtOrBeforeTheSnapshot()
    {
        var m = new Memtable(1);
        m.Add(Put("k", "v1", 10));
        m.Add(Put("k", "v2", 20));
        m.Add(new InternalEntry(B("k"), [], 30, 0, true));

        Assert.Null(m.Get(B("k"), 5));
        Assert.Equal("v1", S(m.Get(B("k"), 10)!.Value));
        Assert.Equal("v1", S(m.Get(B("k"), 19)!.Value));
        Assert.Equal("v2", S(m.Get(B("k"), 29)!.Value));
        Assert.True(m.Get(B("k"), long.MaxValue)!.Tombstone);
        Assert.Equal(1, m.Count); // one key, three versions
        Assert.Equal(10, m.MinIndex);
        Assert.Equal(30, m.MaxIndex);
    }

    [Fact]
    public void RangeIsOrderedBoundedAndLimited()
    {
        var m = new Memtable(1);
        foreach (var k in new[] { "d", "a", "c", "b", "e" })
        {
            m.Add(Put(k, k.ToUpperInvariant(), 1));
        }

        Assert.Equal(["b", "c", "d"], m.Range(B("b"), B("e"), long.MaxValue, 100).Select(e => S(e.Key)));
        Assert.Equal(["a", "b"], m.Range([], [], long.MaxValue, 2).Select(e => S(e.Key)));
        Assert.Equal(["e"], m.Range(B("e"), [], long.MaxValue, 100).Select(e => S(e.Key)));
        Assert.Empty(m.Range(B("x"), B("b"), long.MaxValue, 100));
    }

    [Fact]
    public void BinaryKeysSortAsUnsignedBytes()
    {
        var m = new Memtable(1);
        byte[][] keys = [[0xFF], [0x00], [0x00, 0x00], [0x7F, 0xFF], [0x80]];
        foreach (var k in keys)
        {
            m.Add(new InternalEntry(k, [1], 1, 0, false));
        }

        var order = m.Range([], [], long.MaxValue, 100).Select(e => Convert.ToHexString(e.Key)).ToList();
        Assert.Equal(["00", "0000", "7FFF", "80", "FF"], order);
    }

    [Fact]
    public void SizeIsAccountedAndAFrozenMemtableRejectsWrites()
    {
        var m = new Memtable(1);
        Assert.Equal(0, m.ApproximateBytes);
        m.Add(Put("key", new string('x', 1000), 1));
        Assert.True(m.ApproximateBytes >= 1003, $"accounted {m.ApproximateBytes} bytes for a 1,003-byte entry");
        var before = m.ApproximateBytes;
        m.Add(Put("key", "y", 2));
        Assert.True(m.ApproximateBytes > before, "every version is accounted until flush");

        m.Freeze();
        Assert.True(m.IsFrozen);
        Assert.Throws<InvalidOperationException>(() => m.Add(Put("other", "z", 3)));
        Assert.Equal(["key"], m.Newest().Select(e => S(e.Key)));
        Assert.Equal("y", S(m.Newest().Single().Value));
    }

    [Fact]
    public async Task LockFreeReadersSeeOrderedConsistentStateWhileOneWriterInserts()
    {
        var seed = int.TryParse(Environment.GetEnvironmentVariable("RAFTKV_SEED"), out var s) ? s : Environment.TickCount & 0xFFFF;
        var m = new Memtable(1);
        var rng = new Random(seed);
        var keys = Enumerable.Range(0, 20_000).Select(_ => rng.Next(5_000)).ToList();
        long written = 0;
        using var done = new CancellationTokenSource();

        var readers = Enumerable.Range(0, 2).Select(r => Task.Run(() =>
        {
            var checks = 0;
            while (!done.IsCancellationRequested || checks == 0)
            {
                var snapshot = Volatile.Read(ref written);
                var page = m.Range([], [], snapshot, 10_000);
                for (var i = 1; i < page.Count; i++)
                {
                    Assert.True(KeyComparer.Compare(page[i - 1].Key, page[i].Key) < 0, $"seed {seed}: range out of order");
                }

                Assert.All(page, e => Assert.True(e.Version <= snapshot, $"seed {seed}: version {e.Version} beyond snapshot {snapshot}"));
                var probe = B($"k{keys[checks % keys.Count]:D5}");
                if (m.Get(probe, snapshot) is { } hit)
                {
                    Assert.Equal(probe, hit.Key);
                    Assert.True(hit.Version <= snapshot);
                }

                checks++;
            }

            return checks;
        })).ToList();

        for (var i = 0; i < keys.Count; i++)
        {
            m.Add(new InternalEntry(B($"k{keys[i]:D5}"), B($"v{i}"), i + 1, 0, false));
            Volatile.Write(ref written, i + 1);
        }

        await done.CancelAsync();
        var reads = await Task.WhenAll(readers);
        Assert.All(reads, n => Assert.True(n > 0));

        // Final state equals a simple model: the last write of each key.
        var model = new SortedDictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < keys.Count; i++)
        {
            model[$"k{keys[i]:D5}"] = i;
        }

        Assert.Equal(model.Select(kv => ($"{kv.Key}", $"v{kv.Value}")), m.Range([], [], long.MaxValue, int.MaxValue).Select(e => (S(e.Key), S(e.Value))));
        Assert.Equal(model.Count, m.Count);
    }
}
