using Xunit.Abstractions;
using static RaftKv.Storage.Tests.Helpers;

namespace RaftKv.Storage.Tests;

/// <summary>
/// <see cref="LsmOptions.PartitionBoundaries"/>, per-table overlap and trivial moves: an owner whose every
/// write touches several key spaces (here as MVCC does: "h/" history, "m/" metadata, "u/" user keys and a
/// store-wide "a/rev" record) gets tables that never straddle a space, levels that stay disjoint, tables
/// that move down without a rewrite, and archived tables that compactions leave in the object store.
/// </summary>
public sealed class PartitionedTablesTests(ITestOutputHelper output)
{
    private static readonly byte[][] Spaces = [B("a/"), B("h/"), B("m/"), B("u/")];

    private static LsmOptions Options(string dir, IRemoteTableStore? remote, bool partitioned) => new()
    {
        Directory = dir,
        RemoteStore = remote,
        BackgroundWork = false,
        BlockSize = 512,
        MemtableMaxBytes = 64 << 20,
        TargetFileBytes = 8 << 10,
        L1TargetBytes = 16 << 10,
        L0CompactionTrigger = 4,
        PartitionBoundaries = partitioned ? Spaces : [],
    };

    /// <summary>One "MVCC" write of user key i: four records in four key spaces, one batch.</summary>
    private static void Put(LsmStore store, long index, int i)
    {
        var value = B($"value-{i}-{new string('x', 40)}");
        store.Apply(index, [
            WriteOp.Put(B($"u/{i:D7}"), value),
            WriteOp.Put(B($"m/{i:D7}"), B($"meta{i}")),
            WriteOp.Put(B($"h/{i:D7}"), value),
            WriteOp.Put(B("a/rev"), B($"{index}")),
        ]);
    }

    private static string SpaceOf(byte[] key) => S(key.AsMemory(0, 2));

    [Fact]
    public async Task AFlushWritesOneTablePerKeySpace()
    {
        using var dir = new TempDir();
        await using var store = await LsmStore.OpenAsync(Options(dir.Path, null, partitioned: true));
        for (var i = 0; i < 50; i++)
        {
            Put(store, i + 1, i);
        }

        store.Apply(51, [WriteOp.Put(B("0-below-every-boundary"), B("x"))]);
        await store.FlushAsync();

        var l0 = store.CurrentTables.Levels[0];
        Assert.Equal(5, l0.Count); // "0-…", "a/", "h/", "m/", "u/"
        Assert.All(l0, t => Assert.Equal(SpaceOf(t.Meta.MinKey), SpaceOf(t.Meta.MaxKey)));
        Assert.Equal((50 * 3) + 2, l0.Sum(t => t.Meta.EntryCount)); // u/, m/, h/ per key; a/rev and the other key once
        Assert.Equal("value-7-" + new string('x', 40), S((await store.GetAsync(B("u/0000007"), 0))!.Value.Value));
    }

    /// <summary>The scenario that kept local disk above DISK_MAX_SIZE_GB after a bulk load: keys loaded in
    /// order, the deepest tables archived as the load goes on. With the key spaces apart, compactions never
    /// read an archived table back; with them mixed (the control), they keep doing so.</summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task SequentialLoadLeavesArchivedTablesInTheObjectStore(bool partitioned)
    {
        using var dir = new TempDir();
        using var objects = new TempDir();
        var remote = new DirectoryRemoteTableStore(objects.Path);
        await using var store = await LsmStore.OpenAsync(Options(dir.Path, remote, partitioned));
        long index = 0;
        var n = 0;
        for (var round = 0; round < 30; round++)
        {
            for (var i = 0; i < 150; i++)
            {
                Put(store, ++index, n++);
            }

            await store.FlushAsync();
            while (await store.CompactStepAsync(0))
            {
                AssertLevelsDisjoint(store.CurrentTables, partitioned ? Spaces : []);
            }

            // The archiver's policy under disk pressure: the deepest level's local tables first.
            var levels = store.CurrentTables.Levels;
            var deepest = Array.FindLastIndex(levels, l => l.Count > 0);
            foreach (var t in levels[deepest].Where(t => !t.IsRemote).ToList())
            {
                Assert.True(await store.ArchiveTableAsync(t.Id, $"sst/{t.Id}.sst"));
            }
        }

        var stats = store.GetStats();
        output.WriteLine($"partitioned {partitioned}: read back by compactions {stats.RemoteBytesCompacted} B in {stats.RemoteTablesCompacted} tables, {stats.TrivialMoves} trivial moves, remote {stats.RemoteBytes} B, local {stats.DiskBytes} B");
        if (partitioned)
        {
            // Only the store-wide record's tiny tables (one key, rewritten by every flush) may come back.
            Assert.True(stats.RemoteBytesCompacted * 100 < stats.RemoteBytes, $"compactions read back {stats.RemoteBytesCompacted} B of {stats.RemoteBytes} B archived");
            Assert.True(stats.TrivialMoves > 0, "no table moved down without a rewrite");
            Assert.True(stats.RemoteBytes > stats.DiskBytes, $"remote {stats.RemoteBytes} B, local {stats.DiskBytes} B");
        }
        else
        {
            Assert.True(stats.RemoteBytesCompacted > stats.RemoteBytes / 2, $"the control (key spaces mixed in every table) read back only {stats.RemoteBytesCompacted} B of {stats.RemoteBytes} B archived");
        }

        for (var i = 0; i < n; i += 97)
        {
            Assert.Equal($"value-{i}-{new string('x', 40)}", S((await store.GetAsync(B($"u/{i:D7}"), 0))!.Value.Value));
            Assert.Equal($"meta{i}", S((await store.GetAsync(B($"m/{i:D7}"), 0))!.Value.Value));
        }

        Assert.Equal($"{index}", S((await store.GetAsync(B("a/rev"), 0))!.Value.Value));
        Assert.Equal(n, (await ScanAll(store, "u/", "u0")).Count);
    }

    /// <summary>Levels ≥ 1 are disjoint (lookups rely on it) and no table straddles a boundary.</summary>
    internal static void AssertLevelsDisjoint(TableSet set, IReadOnlyList<byte[]> boundaries)
    {
        for (var level = 1; level < set.Levels.Length; level++)
        {
            var tables = set.Levels[level];
            for (var i = 1; i < tables.Count; i++)
            {
                Assert.True(KeyComparer.Compare(tables[i - 1].Meta.MaxKey, tables[i].Meta.MinKey) < 0, $"L{level}: table {tables[i - 1].Id} overlaps table {tables[i].Id}");
            }
        }

        foreach (var t in set.All)
        {
            Assert.False(
                boundaries.Any(b => KeyComparer.Compare(t.Meta.MinKey, b) < 0 && KeyComparer.Compare(b, t.Meta.MaxKey) <= 0),
                $"table {t.Id} [{S(t.Meta.MinKey)}, {S(t.Meta.MaxKey)}] straddles a partition boundary");
        }
    }
}
