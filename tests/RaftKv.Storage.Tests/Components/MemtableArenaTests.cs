using RaftKv.Storage.Memtables;

namespace RaftKv.Storage.Tests.Components;

/// <summary>The arena that holds memtable nodes: references resolve to the node written there,
/// offsets stay 8-byte aligned (links are atomic longs), and the chunk table grows.</summary>
public sealed class MemtableArenaTests
{
    [Fact]
    public void EveryReferenceResolvesToItsNodeAcrossManyChunks()
    {
        var arena = new MemtableArena();
        var rng = new Random(21);
        var written = new List<(long Reference, byte[] Key, byte[] Value, long Version, bool Tombstone, int Height)>();
        var references = new HashSet<long>();
        for (var i = 0; i < 3_000; i++)
        {
            // Mostly small entries, some chunk-sized and some dedicated, so that the chunk table
            // (16 slots at first) has to grow several times.
            var valueLength = (i % 97) switch
            {
                0 => MemtableArena.DedicatedThreshold + rng.Next(1, 1000),
                1 => MemtableArena.MinChunkBytes * 2,
                _ => rng.Next(0, 300),
            };
            var key = new byte[rng.Next(1, 40)];
            var value = new byte[valueLength];
            rng.NextBytes(key);
            rng.NextBytes(value);
            var height = rng.Next(1, 13);
            var tombstone = rng.Next(5) == 0;
            var reference = MemtableNode.Create(arena, key, value, [], i + 1, i * 3, tombstone, height);
            Assert.NotEqual(0, reference);
            Assert.Equal(0, (int)reference % 8);
            Assert.True(references.Add(reference), "two allocations share a reference");
            var node = arena.Resolve(reference);
            node.SetNext(height - 1, reference); // links are independent of the key/value bytes
            var data = arena.AllocateData(rng.Next(1, 64), out _, out var dataOffset);
            Assert.Equal(0, dataOffset % 8);
            Assert.True(references.Add(data), "a data range shares a reference with a node");
            written.Add((reference, key, value, i + 1, tombstone, height));
        }

        Assert.True(arena.AllocatedBytes >= written.Sum(w => (long)w.Key.Length + w.Value.Length));
        foreach (var (reference, key, value, version, tombstone, height) in written)
        {
            var node = arena.Resolve(reference);
            Assert.Equal(key, node.KeySpan.ToArray());
            Assert.Equal(value, node.ValueSpan.ToArray());
            Assert.Equal(version, node.Version);
            Assert.Equal((version - 1) * 3, node.ExpiresAtUnixMs);
            Assert.Equal(tombstone, node.Tombstone);
            Assert.Equal(height, node.Height);
            Assert.Equal(reference, node.Next(height - 1));
            for (var level = 0; level < height - 1; level++)
            {
                Assert.Equal(0, node.Next(level)); // written cleared
            }
        }
    }

    [Fact]
    public void NodeKeyOrderMatchesTheKeyComparer()
    {
        var arena = new MemtableArena();
        byte[][] keys = [[], [0], [0, 0], [1], [0xFF], [.. new byte[16], 1], [.. new byte[16], 2], [.. new byte[17]]];
        foreach (var a in keys)
        {
            var node = arena.Resolve(Write(arena, a));
            foreach (var b in keys)
            {
                var expected = Math.Sign(KeyComparer.Compare(a, b));
                Assert.Equal(expected, Math.Sign(node.CompareKey(b, KeyPrefix.Read(b, 0), KeyPrefix.Read(b, 8))));
                Assert.Equal(expected == 0, node.SameKey(arena.Resolve(Write(arena, b))));
            }
        }
    }

    private static long Write(MemtableArena arena, byte[] key) => MemtableNode.Create(arena, key, [], [], 1, 0, tombstone: false, 1);
}
