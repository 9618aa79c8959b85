using System.Diagnostics;
using System.Globalization;
using RaftKv.Storage;
using RaftKv.Storage.Tables;
using RocksDbSharp;

namespace RaftKv.Bench.Storage;

/// <summary>
/// The storage engine side by side with RocksDB (WAL disabled on both sides: RaftKv's WAL is the
/// Raft log), same keys and values, in one process and one run: puts of three sizes, hot gets
/// (memtable/cache, measured once background flushes and compactions have settled on both
/// engines), cold gets (after flush, fresh process state), a 1,000-key prefix scan and a full
/// compaction. Prints a markdown table with the RaftKv/RocksDB ratios.
/// </summary>
/// <remarks>Block compression is the same on both sides: none (RaftKv's default, <c>COMPRESSION=none</c>;
/// RocksDB's own default in this build is LZ4, so it is switched off explicitly), plus one full compaction
/// with LZ4 on both (K4os LZ4 block format here, RocksDB's native LZ4 there).</remarks>
public static class StorageBenchmarks
{
    public static int Run(string[] args)
    {
        var quick = args.Contains("--quick");
        var n = quick ? 50_000 : 200_000;
        var rows = new List<(string Name, double Ours, double Rocks)>();
        foreach (var (k, v) in new[] { (16, 64), (16, 512), (32, 4096) })
        {
            var count = v >= 4096 ? n / 8 : n;
            rows.Add(($"put {k} B / {v} B (ops/s)", Puts(count, k, v, ours: true), Puts(count, k, v, ours: false)));
        }

        var (oursHot, oursCold, oursScan, _) = Reads(n, ours: true);
        var (rocksHot, rocksCold, rocksScan, _) = Reads(n, ours: false);
        var compactKeys = quick ? 200_000 : 1_000_000;
        var oursCompact = Compaction(compactKeys, ours: true, BlockCompression.None);
        var rocksCompact = Compaction(compactKeys, ours: false, BlockCompression.None);
        var oursCompactLz4 = Compaction(compactKeys, ours: true, BlockCompression.Lz4);
        var rocksCompactLz4 = Compaction(compactKeys, ours: false, BlockCompression.Lz4);
        rows.Add(("hot get (ops/s)", oursHot, rocksHot));
        rows.Add(("cold get (ops/s)", oursCold, rocksCold));
        rows.Add(("1,000-key prefix scan (scans/s)", oursScan, rocksScan));
        rows.Add(($"full compaction of {compactKeys:N0} keys in 4 overlapping flushed runs (keys/s)", oursCompact, rocksCompact));
        rows.Add(("the same full compaction, LZ4 blocks on both (keys/s)", oursCompactLz4, rocksCompactLz4));

        Console.WriteLine($"| benchmark ({n:N0} keys{(quick ? ", --quick" : string.Empty)}) | RaftKv | RocksDB | RaftKv / RocksDB |");
        Console.WriteLine("|---|---|---|---|");
        foreach (var (name, ours, rocks) in rows)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {name} | {ours:N0} | {rocks:N0} | {ours / rocks:F2} |"));
        }

        return 0;
    }

    private static byte[] Key(int i, int size)
    {
        var k = new byte[size];
        var s = i.ToString("D10", CultureInfo.InvariantCulture);
        System.Text.Encoding.ASCII.GetBytes(s, k.AsSpan(size - 10));
        "bench"u8.CopyTo(k);
        return k;
    }

    /// <summary>RocksDB options with the given block compression (RaftKv's side sets <see cref="LsmOptions.Compression"/>).</summary>
    private static DbOptions Rocks(BlockCompression compression = BlockCompression.None)
        => new DbOptions().SetCompression(compression switch
        {
            BlockCompression.None => Compression.No,
            BlockCompression.Lz4 => Compression.Lz4,
            _ => Compression.Zstd,
        });

    private static string TempDir() => Directory.CreateTempSubdirectory("raftkv-bench-").FullName;

    private static double Puts(int count, int keySize, int valueSize, bool ours)
    {
        var dir = TempDir();
        var value = new byte[valueSize];
        Random.Shared.NextBytes(value);
        var order = Enumerable.Range(0, count).OrderBy(_ => Random.Shared.Next()).ToArray();
        try
        {
            var sw = Stopwatch.StartNew();
            if (ours)
            {
                var store = LsmStore.OpenAsync(new LsmOptions { Directory = dir }).GetAwaiter().GetResult();
                for (var i = 0; i < count; i++)
                {
                    store.Apply(i + 1, [WriteOp.Put(Key(order[i], keySize), value)]);
                }

                store.FlushAsync().GetAwaiter().GetResult();
                sw.Stop();
                store.DisposeAsync().AsTask().GetAwaiter().GetResult();
            }
            else
            {
                using var db = RocksDb.Open(Rocks().SetCreateIfMissing(true), dir);
                var wo = new WriteOptions().DisableWal(1);
                for (var i = 0; i < count; i++)
                {
                    db.Put(Key(order[i], keySize), value, writeOptions: wo);
                }

                db.Flush(new FlushOptions().SetWaitForFlush(true));
                sw.Stop();
            }

            return count / sw.Elapsed.TotalSeconds;
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static (double Hot, double Cold, double Scan, double Compact) Reads(int count, bool ours)
    {
        var dir = TempDir();
        var value = new byte[64];
        var rng = new Random(7);
        try
        {
            if (ours)
            {
                var store = LsmStore.OpenAsync(new LsmOptions { Directory = dir, MemtableMaxBytes = 8 << 20 }).GetAwaiter().GetResult();
                for (var i = 0; i < count; i++)
                {
                    store.Apply(i + 1, [WriteOp.Put(Key(i, 16), value)]);
                }

                store.FlushAsync().GetAwaiter().GetResult();
                SpinWait.SpinUntil(() => !store.GetStats().CompactionPending); // settle: measure a steady state
                var hot = Time(count, i => Sync(store.GetAsync(Key(rng.Next(1000), 16), 0)));
                store.DisposeAsync().AsTask().GetAwaiter().GetResult();
                store = LsmStore.OpenAsync(new LsmOptions { Directory = dir }).GetAwaiter().GetResult(); // fresh process state: empty cache
                var cold = Time(count / 4, i => Sync(store.GetAsync(Key(rng.Next(count), 16), 0)));
                var scan = Time(500, i =>
                {
                    var start = Key(rng.Next(count - 1000), 16);
                    var e = store.ScanAsync(start, Array.Empty<byte>(), 1000, 0).GetAsyncEnumerator();
                    while (e.MoveNextAsync().AsTask().GetAwaiter().GetResult())
                    {
                    }
                });
                var sw = Stopwatch.StartNew();
                store.CompactAsync(0).GetAwaiter().GetResult();
                var compact = count / sw.Elapsed.TotalSeconds;
                store.DisposeAsync().AsTask().GetAwaiter().GetResult();
                return (hot, cold, scan, compact);
            }
            else
            {
                var wo = new WriteOptions().DisableWal(1);
                double hot, cold, scan, compact;
                using (var db = RocksDb.Open(Rocks().SetCreateIfMissing(true), dir))
                {
                    for (var i = 0; i < count; i++)
                    {
                        db.Put(Key(i, 16), value, writeOptions: wo);
                    }

                    db.Flush(new FlushOptions().SetWaitForFlush(true));
                    SpinWait.SpinUntil(() => Settled(db)); // settle: measure a steady state
                    hot = Time(count, i => db.Get(Key(rng.Next(1000), 16)));
                }

                using (var db = RocksDb.Open(Rocks(), dir))
                {
                    cold = Time(count / 4, i => db.Get(Key(rng.Next(count), 16)));
                    scan = Time(500, i =>
                    {
                        using var it = db.NewIterator();
                        it.Seek(Key(rng.Next(count - 1000), 16));
                        for (var j = 0; j < 1000 && it.Valid(); j++)
                        {
                            _ = it.Value();
                            it.Next();
                        }
                    });
                    var sw = Stopwatch.StartNew();
                    db.CompactRange(Array.Empty<byte>(), null);
                    compact = count / sw.Elapsed.TotalSeconds;
                }

                return (hot, cold, scan, compact);
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>Four flushed runs, each overwriting a random half of the keys, then one full compaction.</summary>
    private static double Compaction(int count, bool ours, BlockCompression compression)
    {
        var dir = TempDir();
        var value = new byte[64];
        var rng = new Random(11);
        try
        {
            long index = 0;
            if (ours)
            {
                var store = LsmStore.OpenAsync(new LsmOptions { Directory = dir, MemtableMaxBytes = 1L << 30, MemtableMaxEntries = long.MaxValue, L0CompactionTrigger = 100, BackgroundWork = false, Compression = compression }).GetAwaiter().GetResult();
                for (var run = 0; run < 4; run++)
                {
                    for (var i = 0; i < count; i++)
                    {
                        if (run == 0 || rng.Next(2) == 0)
                        {
                            store.Apply(++index, [WriteOp.Put(Key(i, 16), value)]);
                        }
                    }

                    store.FlushAsync().GetAwaiter().GetResult();
                }

                var sw = Stopwatch.StartNew();
                store.CompactAsync(0).GetAwaiter().GetResult();
                var rate = index / sw.Elapsed.TotalSeconds;
                store.DisposeAsync().AsTask().GetAwaiter().GetResult();
                return rate;
            }

            var wo = new WriteOptions().DisableWal(1);
            using var db = RocksDb.Open(Rocks(compression).SetCreateIfMissing(true).SetDisableAutoCompactions(1).SetWriteBufferSize(1UL << 30), dir);
            for (var run = 0; run < 4; run++)
            {
                for (var i = 0; i < count; i++)
                {
                    if (run == 0 || rng.Next(2) == 0)
                    {
                        db.Put(Key(i, 16), value, writeOptions: wo);
                        index++;
                    }
                }

                db.Flush(new FlushOptions().SetWaitForFlush(true));
            }

            var watch = Stopwatch.StartNew();
            db.CompactRange(Array.Empty<byte>(), null);
            return index / watch.Elapsed.TotalSeconds;
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>No flush or compaction pending or running (RocksDB's own properties).</summary>
    private static bool Settled(RocksDb db)
        => db.GetProperty("rocksdb.compaction-pending") == "0"
           && db.GetProperty("rocksdb.num-running-compactions") == "0"
           && db.GetProperty("rocksdb.num-running-flushes") == "0"
           && db.GetProperty("rocksdb.mem-table-flush-pending") == "0";

    /// <summary>How a synchronous caller consumes a ValueTask: no Task allocation when it completed inline.</summary>
    private static T Sync<T>(ValueTask<T> pending) => pending.IsCompletedSuccessfully ? pending.Result : pending.AsTask().GetAwaiter().GetResult();

    private static double Time(int ops, Action<int> op)
    {
        var sw = Stopwatch.StartNew();
        for (var i = 0; i < ops; i++)
        {
            op(i);
        }

        return ops / sw.Elapsed.TotalSeconds;
    }
}
