using System.Diagnostics;
using System.Globalization;
using System.Text;
using RaftKv.Storage;
using RaftKv.Storage.Tables;

namespace RaftKv.Bench.Storage;

/// <summary>
/// <c>raftkv-bench storage-compression</c>: the storage engine with block compression none / LZ4 /
/// Zstd on three value mixes (JSON documents, English-like text, random bytes): bytes on disk (what
/// an archived table of the same codec occupies in S3), put throughput (puts + flush + settled
/// compactions) and cold-get throughput (reopened store: every block read and decoded once). Then the
/// block cache under Zipfian (YCSB's scrambled, θ = 0.99) and uniform gets at several cache sizes,
/// with the tables archived to a directory standing in for S3: hit rate and object-store requests per
/// get (the engine's own counters). Deterministic data (seeded); prints markdown tables.
/// </summary>
public static class CompressionBenchmarks
{
    private static readonly string[] Words = Vocabulary();

    public static int Run(string[] args)
    {
        var quick = args.Contains("--quick");
        var n = Option(args, "--keys") ?? (quick ? 30_000 : 150_000);
        Console.WriteLine($"## Block compression ({n:N0} keys per mix, 16-byte keys, BlockSize 8 KiB, seed 42)");
        Console.WriteLine();
        Console.WriteLine("| values | codec | value bytes | bytes on disk | disk / raw | put (ops/s) | put (MB/s of values) | cold get (ops/s) |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|");
        foreach (var mix in new[] { "json", "text", "random" })
        {
            foreach (var codec in new[] { BlockCompression.None, BlockCompression.Lz4, BlockCompression.Zstd })
            {
                var r = Compression(n, mix, codec);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {mix} | {codec} | {r.RawBytes:N0} | {r.DiskBytes:N0} | {(double)r.DiskBytes / r.RawBytes:F2} | {r.Puts:N0} | {r.RawBytes / r.PutSeconds / 1e6:F1} | {r.ColdGets:N0} |"));
            }
        }

        Console.WriteLine();
        var gets = quick ? 50_000 : 200_000;
        Console.WriteLine($"## Block cache under Zipfian gets ({n:N0} JSON values, all tables archived to a directory standing in for S3, {gets:N0} gets after a reopen)");
        Console.WriteLine();
        Console.WriteLine("| distribution | cache | cache / data | hit rate | object requests per get | bytes per request | cache evictions | get (ops/s) |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|");
        foreach (var row in CacheRows(n, gets))
        {
            Console.WriteLine(row);
        }

        return 0;
    }

    private static int? Option(string[] args, string name)
        => Array.LastIndexOf(args, name) is var i and >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : null;

    private static byte[] Key(int i) => Encoding.ASCII.GetBytes($"user{i:D12}");

    /// <summary>A value of the <paramref name="mix"/> for key <paramref name="i"/> (seeded per key).</summary>
    internal static byte[] Value(string mix, int i)
    {
        var rng = new Random(42 ^ (i * 7919));
        switch (mix)
        {
            case "json":
                var tags = string.Join(',', Enumerable.Range(0, rng.Next(1, 5)).Select(_ => $"\"{Words[rng.Next(Words.Length)]}\""));
                return Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{{\"id\":{i},\"user\":\"user-{rng.Next(100_000)}\",\"email\":\"{Words[rng.Next(Words.Length)]}.{rng.Next(10_000)}@example.com\",\"created\":\"2026-{rng.Next(1, 13):D2}-{rng.Next(1, 29):D2}T{rng.Next(24):D2}:{rng.Next(60):D2}:{rng.Next(60):D2}Z\",\"active\":{(rng.Next(2) == 0 ? "true" : "false")},\"score\":{rng.NextDouble():F4},\"tags\":[{tags}],\"bio\":\"{Sentence(rng, rng.Next(8, 40))}\"}}"));
            case "text":
                return Encoding.UTF8.GetBytes(Sentence(rng, rng.Next(30, 160)));
            default:
                var bytes = new byte[rng.Next(100, 1000)];
                rng.NextBytes(bytes);
                return bytes;
        }
    }

    private static string Sentence(Random rng, int words) => string.Join(' ', Enumerable.Range(0, words).Select(_ => Words[rng.Next(Words.Length)]));

    private static (long RawBytes, long DiskBytes, double Puts, double PutSeconds, double ColdGets) Compression(int n, string mix, BlockCompression codec)
    {
        var dir = Directory.CreateTempSubdirectory("raftkv-bench-").FullName;
        try
        {
            var values = Enumerable.Range(0, n).Select(i => Value(mix, i)).ToArray();
            var order = Enumerable.Range(0, n).OrderBy(i => new Random(i).Next()).ToArray();
            var raw = values.Sum(v => (long)v.Length);
            var options = new LsmOptions { Directory = dir, Compression = codec, MemtableMaxBytes = 8 << 20 };
            var sw = Stopwatch.StartNew();
            var store = LsmStore.OpenAsync(options).GetAwaiter().GetResult();
            for (var j = 0; j < n; j++)
            {
                store.Apply(j + 1, [WriteOp.Put(Key(order[j]), values[order[j]])]);
            }

            store.FlushAsync().GetAwaiter().GetResult();
            SpinWait.SpinUntil(() => !store.GetStats().CompactionPending);
            sw.Stop();
            var disk = store.LocalDiskBytes;
            store.DisposeAsync().AsTask().GetAwaiter().GetResult();

            store = LsmStore.OpenAsync(options with { BlockCacheBytes = 0 }).GetAwaiter().GetResult(); // every get reads and decodes its block
            var rng = new Random(5);
            var gets = Math.Min(n, 50_000);
            var watch = Stopwatch.StartNew();
            for (var j = 0; j < gets; j++)
            {
                var i = rng.Next(n);
                var got = Sync(store.GetAsync(Key(i), 0)) ?? throw new InvalidOperationException($"key {i} missing");
                if (got.Value.Length != values[i].Length)
                {
                    throw new InvalidOperationException($"key {i}: wrong value");
                }
            }

            watch.Stop();
            store.DisposeAsync().AsTask().GetAwaiter().GetResult();
            return (raw, disk, n / sw.Elapsed.TotalSeconds, sw.Elapsed.TotalSeconds, gets / watch.Elapsed.TotalSeconds);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static IEnumerable<string> CacheRows(int n, int gets)
    {
        var dir = Directory.CreateTempSubdirectory("raftkv-bench-").FullName;
        var objects = Directory.CreateTempSubdirectory("raftkv-bench-s3-").FullName;
        try
        {
            var remote = new DirectoryTableStore(objects);
            var options = new LsmOptions { Directory = dir, MemtableMaxBytes = 8 << 20, RemoteStore = remote, RemoteCompression = BlockCompression.Zstd };
            long dataBytes;
            var store = LsmStore.OpenAsync(options).GetAwaiter().GetResult();
            try
            {
                for (var i = 0; i < n; i++)
                {
                    store.Apply(i + 1, [WriteOp.Put(Key(i), Value("json", i))]);
                }

                store.FlushAsync().GetAwaiter().GetResult();
                SpinWait.SpinUntil(() => !store.GetStats().CompactionPending);
                foreach (var t in store.ListTables())
                {
                    store.ArchiveTableAsync(t.Id, $"sst/{t.Id}.sst").GetAwaiter().GetResult();
                }

                dataBytes = Enumerable.Range(0, n).Sum(i => (long)Value("json", i).Length + 16);
            }
            finally
            {
                store.DisposeAsync().AsTask().GetAwaiter().GetResult();
            }

            var zipf = new ScrambledZipfian(n, 0.99, seed: 9);
            var uniform = new Random(9);
            foreach (var (name, next) in new (string, Func<int>)[] { ("zipfian 0.99", zipf.Next), ("uniform", () => uniform.Next(n)) })
            {
                foreach (var cacheMb in new[] { 4, 16, 64 })
                {
                    store = LsmStore.OpenAsync(options with { BlockCacheBytes = (long)cacheMb << 20 }).GetAwaiter().GetResult();
                    try
                    {
                        var before = store.GetStats();
                        var sw = Stopwatch.StartNew();
                        for (var j = 0; j < gets; j++)
                        {
                            var i = next();
                            _ = Sync(store.GetAsync(Key(i), 0)) ?? throw new InvalidOperationException($"key {i} missing");
                        }

                        sw.Stop();
                        var s = store.GetStats();
                        var hits = s.CacheHits - before.CacheHits;
                        var lookups = hits + s.CacheMisses - before.CacheMisses;
                        yield return string.Create(CultureInfo.InvariantCulture, $"| {name} | {cacheMb} MiB | {(double)(cacheMb << 20) / dataBytes:P0} | {(double)hits / lookups:P1} | {(double)(s.ObjectReadRequests - before.ObjectReadRequests) / gets:F3} | {(double)(s.ObjectReadBytes - before.ObjectReadBytes) / Math.Max(1, s.ObjectReadRequests - before.ObjectReadRequests):N0} | {s.CacheEvictions:N0} | {gets / sw.Elapsed.TotalSeconds:N0} |");
                    }
                    finally
                    {
                        store.DisposeAsync().AsTask().GetAwaiter().GetResult();
                    }
                }
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
            Directory.Delete(objects, recursive: true);
        }
    }

    private static T Sync<T>(ValueTask<T> pending) => pending.IsCompletedSuccessfully ? pending.Result : pending.AsTask().GetAwaiter().GetResult();

    private static string[] Vocabulary() =>
        ("the of and to in is was for on that with as by at from his her an which or are be this had not but were have it they their one all been has there more when also who will would into no other only new some time could these two may then first any like over such our out most even made after many before must through back years where much your way well down should because each just those people state how too little good very make world still own see men work long get here between both life being under never day same another know while last might us great old year off come since against go came right used take three"
        ).Split(' ');

    /// <summary>YCSB's scrambled Zipfian over [0, n): ranks drawn with P(rank k) ∝ 1/k^θ, then hashed so
    /// the hot keys are spread over the key space (and so over many blocks).</summary>
    private sealed class ScrambledZipfian
    {
        private readonly double[] _cdf;
        private readonly Random _rng;
        private readonly int _n;

        public ScrambledZipfian(int n, double theta, int seed)
        {
            _n = n;
            _rng = new Random(seed);
            _cdf = new double[n];
            double sum = 0;
            for (var k = 0; k < n; k++)
            {
                sum += 1 / Math.Pow(k + 1, theta);
                _cdf[k] = sum;
            }

            for (var k = 0; k < n; k++)
            {
                _cdf[k] /= sum;
            }
        }

        public int Next()
        {
            var rank = Array.BinarySearch(_cdf, _rng.NextDouble());
            rank = rank < 0 ? ~rank : rank;
            return (int)((ulong)(Math.Min(rank, _n - 1) + 1) * 0x9E3779B97F4A7C15UL % (ulong)_n);
        }
    }

    /// <summary>A directory standing in for S3 (each ranged read opens the file): the engine's counters
    /// count the requests it would send.</summary>
    private sealed class DirectoryTableStore(string root) : IRemoteTableStore
    {
        public Task UploadAsync(string objectName, string localPath, CancellationToken cancellationToken = default)
        {
            var dest = Path.Combine(root, objectName);
            Directory.CreateDirectory(Path.GetDirectoryName(dest)!);
            File.Copy(localPath, dest, overwrite: true);
            return Task.CompletedTask;
        }

        public async ValueTask ReadAsync(string objectName, long offset, Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            using var handle = File.OpenHandle(Path.Combine(root, objectName));
            if (await RandomAccess.ReadAsync(handle, buffer, offset, cancellationToken) != buffer.Length)
            {
                throw new EndOfStreamException(objectName);
            }
        }

        public Task DeleteAsync(string objectName, CancellationToken cancellationToken = default)
        {
            File.Delete(Path.Combine(root, objectName));
            return Task.CompletedTask;
        }
    }
}
