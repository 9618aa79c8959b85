using System.Buffers.Binary;
using RaftKv.Storage.Memtables;
using Xunit.Abstractions;

namespace RaftKv.Storage.Tests;

/// <summary>
/// Memtable insertion hints change no link: the same writes, with and without hints, build the same skiplist at every
/// level (heights come from the memtable's own fixed random sequence, so equal calls give equal heights). The writes mix
/// what the MVCC layout does per put — a random user key, its metadata and history records, a revision index record that
/// appends, a store-wide record that gets a new version per write — with rewrites of a key at the same index, keys
/// shorter than the 4-byte hint prefix, descending runs, and keys that share a slot.
/// </summary>
public sealed class MemtableHintTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    public void HintsBuildTheSameSkiplistAsSearches(int seed)
    {
        output.WriteLine($"seed {seed}");
        var rng = new Random(seed);
        var hinted = new Memtable(1);
        var searched = new Memtable(1) { UseHints = false };
        long index = 0;
        var descending = 1_000_000;
        for (var op = 0; op < 20_000; op++)
        {
            index += rng.Next(3) == 0 ? 0 : 1; // some writes share an index (a later add of a key goes in front and shadows it)
            if (rng.Next(10) == 0)
            {
                // A burst at one index among a few neighbours in one slot: a rewrite lands right behind or in front of
                // the slot's last node and the hint's predecessors can equal the new (key, version).
                for (var b = 0; b < 4; b++)
                {
                    var neighbour = Bytes($"\0\u00ffs/{rng.Next(4)}");
                    var v = Bytes($"s{op}.{b}");
                    hinted.Add(neighbour, v, index, 0, tombstone: false);
                    searched.Add(neighbour, v, index, 0, tombstone: false);
                }
            }

            var key = rng.Next(9) switch
            {
                0 or 1 => Bytes($"000{rng.Next(100_000):D5}"), // user keys
                2 => Bytes($"\0\u00ffm/000{rng.Next(100_000):D5}"), // metadata
                3 => Bytes($"\0\u00ffh/000{rng.Next(100_000):D5}\0\u0001").Concat(BigEndian(ulong.MaxValue - (ulong)index)).ToArray(),
                4 => Bytes("\0\u00ffi/").Concat(BigEndian((ulong)index)).ToArray(), // the revision index appends
                5 => Bytes("\0\u00ffrev"), // one key, a new version per write
                6 => Bytes("\0\u00ffd/").Concat(BigEndian((ulong)descending--)).ToArray(), // a descending run
                7 => [(byte)rng.Next(256)], // shorter than the hint prefix
                _ => Bytes($"zz{rng.Next(50)}"),
            };
            var value = Bytes($"v{op}");
            var tombstone = rng.Next(20) == 0;
            hinted.Add(key, tombstone ? [] : value, index, 0, tombstone);
            searched.Add(key, tombstone ? [] : value, index, 0, tombstone);
        }

        for (var level = 0; level < 12; level++)
        {
            var a = hinted.LevelForTests(level).Select(n => (Convert.ToHexString(n.Key), n.Version, Convert.ToHexString(n.Value))).ToList();
            var b = searched.LevelForTests(level).Select(n => (Convert.ToHexString(n.Key), n.Version, Convert.ToHexString(n.Value))).ToList();
            Assert.True(a.SequenceEqual(b), $"seed {seed}: level {level} differs ({a.Count} vs {b.Count} nodes)");
        }

        Assert.Equal(searched.Count, hinted.Count);
        Assert.Equal(searched.VersionCount, hinted.VersionCount);
    }

    private static byte[] Bytes(string s) => s.Select(c => (byte)c).ToArray();

    private static byte[] BigEndian(ulong v)
    {
        var b = new byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(b, v);
        return b;
    }
}
