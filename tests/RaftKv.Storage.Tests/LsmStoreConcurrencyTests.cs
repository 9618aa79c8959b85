using System.Buffers.Binary;
using static RaftKv.Storage.Tests.Helpers;

namespace RaftKv.Storage.Tests;

/// <summary>One apply thread writing seeded data through many flushes and background compactions
/// while readers run lock-free gets and scans: every answer must be one the writes allow, and no
/// read may hit a table file that was released under it.</summary>
public sealed class LsmStoreConcurrencyTests
{
    [Theory]
    [InlineData(21)]
    [InlineData(22)]
    public async Task ReadsStayConsistentWhileWritesFlushAndCompact(int seed)
    {
        const int Writes = 12_000;
        const int Keys = 400;
        var rng = new Random(seed);
        var keyOf = new int[Writes + 1];
        var tombstone = new bool[Writes + 1];
        var versionsOf = Enumerable.Range(0, Keys).Select(_ => new List<int>()).ToArray();
        for (var v = 1; v <= Writes; v++)
        {
            keyOf[v] = rng.Next(Keys);
            tombstone[v] = rng.Next(6) == 0;
            versionsOf[keyOf[v]].Add(v);
        }

        using var tmp = new TempDir();
        await using var store = await LsmStore.OpenAsync(new LsmOptions
        {
            Directory = tmp.Path,
            MemtableMaxBytes = 16 << 10,
            BlockSize = 512,
            TargetFileBytes = 8 << 10,
            L1TargetBytes = 32 << 10,
            L0CompactionTrigger = 2,
            BlockCacheBytes = 16 << 10,
        });

        long started = 0; // upper bound: an index becomes visible during Apply
        long published = 0; // lower bound: Apply returned
        var writer = Task.Run(() =>
        {
            for (var v = 1; v <= Writes; v++)
            {
                Volatile.Write(ref started, v);
                store.Apply(v, [tombstone[v] ? WriteOp.Delete(KeyBytes(keyOf[v])) : WriteOp.Put(KeyBytes(keyOf[v]), ValueBytes(v))]);
                Volatile.Write(ref published, v);
            }
        });

        var readers = Enumerable.Range(0, 2).Select(r => Task.Run(async () =>
        {
            var local = new Random((seed * 31) + r);
            var checks = 0;
            while (!writer.IsCompleted || checks < 200)
            {
                var before = Volatile.Read(ref published);
                if (local.Next(10) == 0)
                {
                    var start = local.Next(Keys);
                    var got = await ScanAll(store, S(KeyBytes(start)), limit: 50);
                    var after = Volatile.Read(ref started);
                    Assert.True(got.Count <= 50);
                    for (var i = 0; i < got.Count; i++)
                    {
                        Assert.True(i == 0 || KeyComparer.Compare(got[i - 1].Key.Span, got[i].Key.Span) < 0, "scan out of order");
                        CheckVersion(int.Parse(S(got[i].Key)[3..]), got[i], before, after);
                    }
                }
                else
                {
                    var k = local.Next(Keys);
                    var got = await store.GetAsync(KeyBytes(k), 0);
                    var after = Volatile.Read(ref started);
                    if (got is { } e)
                    {
                        CheckVersion(k, e, before, after);
                    }
                    else
                    {
                        // Absent: no write of k was applied before the read, or a delete of k could be current.
                        var floor = versionsOf[k].LastOrDefault(v => v <= before);
                        Assert.True(floor == 0 || versionsOf[k].Any(v => v >= floor && v <= after && tombstone[v]), $"key {k} missing between {before} and {after}");
                    }
                }

                checks++;
            }
        })).ToArray();

        await Task.WhenAll([writer, .. readers]);
        await store.CompactAsync(0);
        for (var k = 0; k < Keys; k++)
        {
            var last = versionsOf[k].LastOrDefault();
            var got = await store.GetAsync(KeyBytes(k), 0);
            Assert.Equal(last == 0 || tombstone[last] ? null : last, got?.Version);
        }

        void CheckVersion(int k, KvEntry e, long before, long after)
        {
            var version = (int)e.Version;
            Assert.Contains(version, versionsOf[k]);
            Assert.False(tombstone[version]);
            Assert.True(e.Value.Span.SequenceEqual(ValueBytes(version)), $"value of version {version} is wrong");
            Assert.True(version <= after, $"key {k}: version {version} is from the future ({after})");
            var floor = versionsOf[k].LastOrDefault(v => v <= before);
            Assert.True(version >= floor, $"key {k}: version {version} is older than {floor}, applied before the read");
        }
    }

    /// <summary>Flushes started on other threads (the snapshot loop's checkpoint, a physical compaction, an admin
    /// flush) while the apply thread adds multi-op batches: no apply may meet a memtable frozen under it (a node
    /// failed with "memtable is frozen" this way), and every write is readable afterwards, also after a reopen.</summary>
    [Fact]
    public async Task FlushesFromOtherThreadsNeverFreezeAMemtableUnderABatch()
    {
        const int Batches = 3_000;
        const int PerBatch = 40;
        using var tmp = new TempDir();
        var options = new LsmOptions { Directory = tmp.Path, MemtableMaxBytes = 1 << 20, L0CompactionTrigger = 4 };
        await using (var store = await LsmStore.OpenAsync(options))
        {
            var done = 0;
            var flushes = 0;
            var writer = Task.Run(() =>
            {
                try
                {
                    for (var b = 1; b <= Batches; b++)
                    {
                        if (b == Batches)
                        {
                            // On a loaded machine the writes can outrun the first flush: the last batch waits (bounded)
                            // until flushes have run alongside the writes, so the overlap this test is about happens.
                            SpinWait.SpinUntil(() => Volatile.Read(ref flushes) >= 2, TimeSpan.FromSeconds(60));
                        }

                        store.Apply(b, Enumerable.Range(0, PerBatch).Select(i => WriteOp.Put(KeyBytes((b * PerBatch) + i), ValueBytes(b))).ToList());
                    }
                }
                finally
                {
                    Volatile.Write(ref done, 1);
                }
            });
            var flusher = Task.Run(async () =>
            {
                while (Volatile.Read(ref done) == 0)
                {
                    await store.FlushAsync();
                    Interlocked.Increment(ref flushes);
                }
            });
            await Task.WhenAll(writer, flusher);
            Assert.True(flushes > 1, "the flusher ran during the writes");
            await store.FlushAsync();
        }

        await using var reopened = await LsmStore.OpenAsync(options);
        for (var b = 1; b <= Batches; b++)
        {
            for (var i = 0; i < PerBatch; i++)
            {
                var got = await reopened.GetAsync(KeyBytes((b * PerBatch) + i), 0);
                Assert.True(got is { } e && e.Version == b && e.Value.Span.SequenceEqual(ValueBytes(b)), $"batch {b} op {i} lost");
            }
        }
    }

    private static byte[] KeyBytes(int k) => B($"key{k:D5}");

    private static byte[] ValueBytes(long version)
    {
        var value = new byte[8 + (int)(version % 23)];
        BinaryPrimitives.WriteInt64LittleEndian(value, version);
        return value;
    }
}
