using System.Buffers.Binary;
using RaftKv.Storage.Memtables;
using static RaftKv.Storage.Tests.Helpers;

namespace RaftKv.Storage.Tests;

/// <summary>The skiplist memtable on its own: order, versions, tombstones, accounting, and one
/// writer racing lock-free readers (seeded, no sleeps, no timing assertions).</summary>
public sealed class SkipListMemtableTests
{
    [Fact]
    public void NewestIsSortedDistinctAndNewestWins()
    {
        var rng = new Random(3);
        var mem = new Memtable(1);
        var model = new SortedDictionary<string, (string Value, long Version)>(StringComparer.Ordinal);
        for (var i = 1; i <= 5000; i++)
        {
            var key = $"k{rng.Next(800):D4}";
            var value = $"v{i}";
            mem.Add(B(key), B(value), i, 0, tombstone: false);
            model[key] = (value, i);
        }

        var got = mem.Newest().Select(n => (S(n.Key), S(n.Value), n.Version)).ToList();
        Assert.Equal(model.Select(kv => (kv.Key, kv.Value.Value, kv.Value.Version)).ToList(), got);
        Assert.Equal(model.Count, mem.Count);
        Assert.Equal(5000, mem.VersionCount);
        Assert.Equal(1, mem.MinIndex);
        Assert.Equal(5000, mem.MaxIndex);
    }

    [Fact]
    public void BinaryKeysSortLikeTheKeyComparer()
    {
        // Short, long, zero-heavy and 0xFF-heavy keys exercise the inline 16-byte prefix compare.
        var rng = new Random(9);
        var mem = new Memtable(1);
        var keys = new HashSet<string>();
        for (var i = 1; i <= 3000; i++)
        {
            var key = new byte[rng.Next(1, 40)];
            for (var j = 0; j < key.Length; j++)
            {
                key[j] = rng.Next(3) switch { 0 => 0, 1 => 0xFF, _ => (byte)rng.Next(256) };
            }

            mem.Add(key, [], i, 0, tombstone: false);
            keys.Add(Convert.ToHexString(key));
        }

        var expected = keys.Select(Convert.FromHexString).Order(KeyComparer.Instance).ToList();
        var got = mem.Newest().Select(n => n.Key.ToArray()).ToList();
        Assert.Equal(expected.Count, got.Count);
        Assert.All(expected.Zip(got), p => Assert.Equal(p.First, p.Second));
        Assert.All(expected, k => Assert.NotNull(mem.Get(k, long.MaxValue)));
        Assert.Null(mem.Get([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], long.MaxValue));
    }

    [Fact]
    public void GetSeesTheVersionAtTheSnapshot()
    {
        var mem = new Memtable(1);
        mem.Add(B("a"), B("a1"), 1, 0, tombstone: false);
        mem.Add(B("b"), B("b2"), 2, 0, tombstone: false);
        mem.Add(B("a"), B("a3"), 3, 0, tombstone: false);
        mem.Add(B("a"), [], 5, 0, tombstone: true);
        mem.Add(B("a"), B("a7"), 7, 0, tombstone: false);

        Assert.Null(mem.Get(B("a"), 0));
        Assert.Equal("a1", S(mem.Get(B("a"), 1)!.Value.Value));
        Assert.Equal("a1", S(mem.Get(B("a"), 2)!.Value.Value));
        Assert.Equal("a3", S(mem.Get(B("a"), 4)!.Value.Value));
        Assert.True(mem.Get(B("a"), 5)!.Value.Tombstone);
        Assert.True(mem.Get(B("a"), 6)!.Value.Tombstone);
        Assert.Equal("a7", S(mem.Get(B("a"), 7)!.Value.Value));
        Assert.Equal("a7", S(mem.Get(B("a"), long.MaxValue)!.Value.Value));
        Assert.Null(mem.Get(B("b"), 1));
        Assert.Null(mem.Get(B("aa"), long.MaxValue));
        Assert.Null(mem.Get(B(""), long.MaxValue));
        Assert.Null(mem.Get(B("c"), long.MaxValue));
        Assert.Equal(2, mem.Count);
    }

    [Fact]
    public void LaterWriteOfTheSameKeyAtTheSameIndexWins()
    {
        var mem = new Memtable(1);
        mem.Add(B("k"), B("first"), 4, 0, tombstone: false);
        mem.Add(B("k"), B("second"), 4, 0, tombstone: false);
        mem.Add(B("j"), B("x"), 4, 0, tombstone: false);
        mem.Add(B("j"), [], 4, 0, tombstone: true);

        Assert.Equal("second", S(mem.Get(B("k"), 4)!.Value.Value));
        Assert.True(mem.Get(B("j"), 4)!.Value.Tombstone);
        Assert.Equal(["j", "k"], mem.Newest().Select(n => S(n.Key)).ToList());
        Assert.Equal(2, mem.Count);
    }

    [Fact]
    public void TombstonesAndExpiryAreReportedNotHidden()
    {
        var mem = new Memtable(1);
        mem.Add(B("ttl"), B("v"), 1, 1_000, tombstone: false);
        mem.Add(B("gone"), [], 2, 0, tombstone: true);

        var ttl = mem.Get(B("ttl"), 2)!.Value;
        Assert.Equal(1_000, ttl.ExpiresAtUnixMs);
        Assert.True(ttl.IsLiveAt(999));
        Assert.False(ttl.IsLiveAt(1_000));
        var gone = mem.Get(B("gone"), 2)!.Value;
        Assert.True(gone.Tombstone);
        Assert.False(gone.IsLiveAt(0));
        Assert.Equal(0, gone.Value.Length);
        Assert.Equal(["gone", "ttl"], mem.Range(B(""), B(""), 2).Select(n => S(n.Key)).ToList());
    }

    [Fact]
    public void RangeHonoursBoundsAndSnapshot()
    {
        var mem = new Memtable(1);
        long index = 0;
        foreach (var key in new[] { "a", "b", "c", "d", "e" })
        {
            mem.Add(B(key), B(key + "1"), ++index, 0, tombstone: false); // versions 1..5
        }

        mem.Add(B("c"), B("c6"), ++index, 0, tombstone: false);
        mem.Add(B("f"), B("f7"), ++index, 0, tombstone: false);

        string Render(string start, string end, long snapshot)
            => string.Join(",", mem.Range(B(start), B(end), snapshot).Select(n => S(n.Value)));

        Assert.Equal("b1,c1,d1", Render("b", "e", 5));
        Assert.Equal("b1,c6,d1", Render("b", "e", 6));
        Assert.Equal("a1,b1,c6,d1,e1,f7", Render("", "", 7));
        Assert.Equal("c6,d1,e1", Render("bb", "f", 7));
        Assert.Equal("a1,b1", Render("", "", 2));
        Assert.Equal(string.Empty, Render("g", "", 7));
        Assert.Equal(string.Empty, Render("c", "c", 7));
    }

    [Fact]
    public void AccountsBytesAndStoresLargeValues()
    {
        var mem = new Memtable(1);
        var big = new byte[MemtableArena.DedicatedThreshold + 1];
        new Random(5).NextBytes(big);
        var medium = new byte[MemtableArena.MinChunkBytes * 3];
        new Random(6).NextBytes(medium);
        mem.Add(B("big"), big, 1, 0, tombstone: false);
        mem.Add(B("medium"), medium, 2, 0, tombstone: false);
        for (var i = 0; i < 2000; i++)
        {
            mem.Add(B($"small{i:D5}"), B("0123456789"), 3 + i, 0, tombstone: false);
        }

        Assert.Equal(big, mem.Get(B("big"), long.MaxValue)!.Value.Value.ToArray());
        Assert.Equal(medium, mem.Get(B("medium"), long.MaxValue)!.Value.Value.ToArray());
        Assert.Equal("0123456789", S(mem.Get(B("small01999"), long.MaxValue)!.Value.Value));
        var expected = (3 + big.Length + Memtable.NodeOverheadBytes)
                       + (6 + medium.Length + Memtable.NodeOverheadBytes)
                       + (2000 * (10 + 10 + Memtable.NodeOverheadBytes));
        Assert.Equal(expected, mem.ApproximateBytes);
        Assert.True(mem.ArenaBytes >= big.Length + medium.Length + (2000 * 20));
    }

    [Fact]
    public void FrozenMemtableRejectsWrites()
    {
        var mem = new Memtable(1);
        mem.Freeze();
        Assert.Throws<InvalidOperationException>(() => mem.Add(B("a"), B("b"), 1, 0, tombstone: false));
    }

    /// <summary>One writer adds seeded versions while readers check, at the last published index,
    /// that every get and range result is exactly the model's answer at that index.</summary>
    [Theory]
    [InlineData(11)]
    [InlineData(12)]
    public async Task ReadersSeeConsistentSnapshotsWhileOneThreadWrites(int seed)
    {
        const int Writes = 40_000;
        const int Keys = 500;
        var rng = new Random(seed);
        var keyOf = new int[Writes + 1];
        var tombstone = new bool[Writes + 1];
        for (var v = 1; v <= Writes; v++)
        {
            keyOf[v] = rng.Next(Keys);
            tombstone[v] = rng.Next(8) == 0;
        }

        // versionsOf[k] ascending: the model answer at snapshot s is the last version ≤ s.
        var versionsOf = Enumerable.Range(0, Keys).Select(_ => new List<int>()).ToArray();
        for (var v = 1; v <= Writes; v++)
        {
            versionsOf[keyOf[v]].Add(v);
        }

        var mem = new Memtable(1);
        long published = 0;
        var writer = Task.Run(() =>
        {
            for (var v = 1; v <= Writes; v++)
            {
                if (tombstone[v])
                {
                    mem.Add(KeyBytes(keyOf[v]), [], v, 0, tombstone: true);
                }
                else
                {
                    mem.Add(KeyBytes(keyOf[v]), ValueBytes(v), v, 0, tombstone: false);
                }

                Volatile.Write(ref published, v);
            }
        });

        var readers = Enumerable.Range(0, 2).Select(r => Task.Run(() =>
        {
            var local = new Random(seed * 31 + r);
            var checks = 0;
            while (!writer.IsCompleted || checks < 200)
            {
                var snapshot = Volatile.Read(ref published);
                if (local.Next(20) == 0)
                {
                    CheckRange(mem, snapshot, local.Next(Keys), versionsOf, tombstone);
                }
                else
                {
                    var k = local.Next(Keys);
                    CheckGet(mem.Get(KeyBytes(k), snapshot), Expected(versionsOf[k], snapshot), tombstone);
                }

                checks++;
            }
        })).ToArray();

        await Task.WhenAll([writer, .. readers]);
        CheckRange(mem, Writes, 0, versionsOf, tombstone);
        Assert.Equal(versionsOf.Count(l => l.Count > 0), mem.Count);
    }

    private static byte[] KeyBytes(int k) => B($"key{k:D5}");

    private static byte[] ValueBytes(long version)
    {
        var value = new byte[8 + (int)(version % 37)];
        BinaryPrimitives.WriteInt64LittleEndian(value, version);
        value.AsSpan(8).Fill((byte)version);
        return value;
    }

    private static int Expected(List<int> versions, long snapshot)
    {
        var i = versions.BinarySearch((int)Math.Min(snapshot, int.MaxValue));
        i = i >= 0 ? i : ~i - 1;
        return i >= 0 ? versions[i] : 0;
    }

    private static void CheckGet(MemtableNode? got, int expectedVersion, bool[] tombstone)
    {
        if (expectedVersion == 0)
        {
            Assert.Null(got);
            return;
        }

        Assert.NotNull(got);
        var node = got.Value;
        Assert.Equal(expectedVersion, node.Version);
        Assert.Equal(tombstone[expectedVersion], node.Tombstone);
        if (!node.Tombstone)
        {
            Assert.True(node.Value.Span.SequenceEqual(ValueBytes(expectedVersion)), $"value of version {expectedVersion} is torn");
        }
    }

    private static void CheckRange(Memtable mem, long snapshot, int startKey, List<int>[] versionsOf, bool[] tombstone)
    {
        var expected = Enumerable.Range(startKey, versionsOf.Length - startKey)
            .Select(k => (Key: k, Version: Expected(versionsOf[k], snapshot)))
            .Where(x => x.Version != 0)
            .ToList();
        var got = mem.Range(KeyBytes(startKey), ReadOnlyMemory<byte>.Empty, snapshot).ToList();
        Assert.Equal(expected.Select(x => S(KeyBytes(x.Key))), got.Select(n => S(n.Key)));
        for (var i = 0; i < got.Count; i++)
        {
            CheckGet(got[i], expected[i].Version, tombstone);
        }
    }
}
