using System.Diagnostics;

namespace RaftKv.Bench.Load;

/// <summary>
/// etcd-benchmark-style load: N clients, each with one request in flight, each on its own connection (or sharing
/// <see cref="LoadOptions.Conns"/> connections, as etcd's <c>benchmark --conns</c>),
/// bounded by total requests and/or duration; the warm-up is excluded from the figures.
/// A live ops/s line goes to stderr.
/// </summary>
public sealed class LoadRunner(LoadOptions options)
{
    public async Task<LoadResult> RunAsync()
    {
        var endpoint = options.Target == "raftkv" ? await RaftKvDriver.FindLeaderAsync(options.Endpoints, options.Tls, options.User) : options.Endpoints[0];
        using var credentials = options.User is { } u ? new BenchCredentials(endpoint, options.Tls, u.Name, u.Password, options.TokenFile) : null;
        if (credentials is not null)
        {
            await credentials.RefreshAsync(null); // before the clock starts; a bad password fails the run here
        }

        // --target etcd: client c on endpoint c mod n, as etcd's own clients spread over every endpoint they are given
        // (one endpoint: all at it). --target raftkv: all at the leader.
        // --conns: fewer connections than clients, client c on connection c mod conns (HTTP/2 multiplexes their calls).
        var connections = options.Conns > 0 && options.Workload != "load" ? Math.Min(options.Conns, options.Clients) : options.Clients;
        var drivers = Enumerable.Range(0, connections).Select(c => options.Target == "raftkv" ? (IKvDriver)new RaftKvDriver(endpoint, options.Tls, credentials) : new EtcdDriver(options.Endpoints[c % options.Endpoints.Count], options.Tls, credentials)).ToList();
        try
        {
            if (options.Workload == "load")
            {
                return await new BulkLoader(options, drivers).RunAsync();
            }

            if (options.Preload && !options.SkipLoad && options.Workload is "get" or "get-serializable" or "mixed" or "range")
            {
                await PreloadAsync(drivers[0]);
            }

            var reads = options.Workload is "put" or "large" || options.SkipLoad ? options.KeySpace : Math.Min(options.KeySpace, PreloadCount);
            var chooser = new KeyChooser(reads, options.Distribution, options.ZipfTheta);
            var samples = new List<long>[options.Clients];
            var sampleTiers = new List<ReadTier>[options.Clients];
            long completed = 0, errors = 0;
            var errorKinds = new System.Collections.Concurrent.ConcurrentDictionary<string, (long Count, string Example)>();
            var measuring = false;
            var measureStart = 0L;
            using var stop = new CancellationTokenSource();
            var tasks = Enumerable.Range(0, options.Clients).Select(c => Task.Run(async () =>
            {
                var rng = new Random(options.Seed + c);
                var list = samples[c] = new List<long>(1 << 16);
                var tiers = sampleTiers[c] = new List<ReadTier>(1 << 16);
                var value = new byte[options.Workload == "large" ? 64 << 10 : options.ValueSize];
                rng.NextBytes(value);
                while (!stop.IsCancellationRequested)
                {
                    var key = FormatKey(chooser.Next(rng), options.KeySize);
                    var t0 = Stopwatch.GetTimestamp();
                    ReadTier tier;
                    try
                    {
                        tier = await Op(drivers[c % drivers.Count], rng, key, value);
                    }
                    catch (Grpc.Core.RpcException e)
                    {
                        Interlocked.Increment(ref errors);
                        errorKinds.AddOrUpdate(e.StatusCode.ToString(), _ => (1, e.Status.Detail), (_, k) => (k.Count + 1, k.Example));
                        continue;
                    }

                    if (Volatile.Read(ref measuring))
                    {
                        list.Add(Stopwatch.GetTimestamp() - t0);
                        tiers.Add(tier);
                        if (Interlocked.Increment(ref completed) >= options.Total && options.Total > 0)
                        {
                            await stop.CancelAsync();
                        }
                    }
                }
            })).ToList();

            await Task.Delay(options.Warmup);
            measureStart = Stopwatch.GetTimestamp();
            Volatile.Write(ref measuring, true);
            var last = 0L;
            while (!stop.IsCancellationRequested && Stopwatch.GetElapsedTime(measureStart) < options.Duration)
            {
                await Task.Delay(TimeSpan.FromSeconds(1)).ConfigureAwait(false);
                var now = Interlocked.Read(ref completed);
                Console.Error.Write($"\r[{options.Target} {options.Workload} x{options.Clients}] {Stopwatch.GetElapsedTime(measureStart).TotalSeconds,5:F0}s {now - last,8} ops/s  total {now}   ");
                last = now;
            }

            await stop.CancelAsync();
            var seconds = Stopwatch.GetElapsedTime(measureStart).TotalSeconds;
            await Task.WhenAll(tasks);
            Console.Error.WriteLine();
            var all = samples.SelectMany(s => s).Order().ToArray();
            var byTier = samples.SelectMany((s, c) => s.Select((ticks, i) => (Tier: sampleTiers[c][i], Ticks: ticks)))
                .Where(_ => options.Workload is "get" or "get-serializable")
                .GroupBy(x => x.Tier)
                .OrderBy(g => g.Key)
                .ToDictionary(g => TierName(g.Key), g =>
                {
                    var sorted = g.Select(x => x.Ticks).Order().ToArray();
                    return new TierLatency(sorted.Length, Percentile(sorted, 0.50), Percentile(sorted, 0.99));
                });
            return new LoadResult(options.Target, options.Workload, options.Clients, all.Length, errors, seconds, Percentile(all, 0.50), Percentile(all, 0.90), Percentile(all, 0.99), all.Length == 0 ? 0 : Ms(all[^1]))
            {
                Tiers = byTier,
                Distribution = chooser.Distribution,
                Authentications = credentials?.Authentications ?? 0,
                ErrorKinds = errorKinds.OrderByDescending(k => k.Value.Count).ToDictionary(k => k.Key, k => k.Value),
            };
        }
        finally
        {
            drivers.ForEach(d => d.Dispose());
        }
    }

    private async Task<ReadTier> Op(IKvDriver d, Random rng, byte[] key, byte[] value)
    {
        switch (options.Workload)
        {
            case "put" or "large":
                await d.PutAsync(key, value);
                return ReadTier.Unknown;
            case "get":
                return await d.GetAsync(key, serializable: false);
            case "get-serializable":
                return await d.GetAsync(key, serializable: true);
            case "mixed":
                if (rng.Next(10) == 0)
                {
                    await d.PutAsync(key, value);
                    return ReadTier.Unknown;
                }

                return await d.GetAsync(key, serializable: false);
            case "range":
                await d.RangeAsync(key, 100);
                return ReadTier.Unknown;
            default:
                throw new ArgumentException($"unknown workload '{options.Workload}'");
        }
    }

    /// <summary>Key <paramref name="i"/>: its decimal digits, zero-padded to <paramref name="keySize"/> bytes
    /// (the last <paramref name="keySize"/> digits if longer), so keys sort in index order.</summary>
    public static byte[] FormatKey(long i, int keySize)
    {
        var s = i.ToString("D" + keySize, System.Globalization.CultureInfo.InvariantCulture);
        return System.Text.Encoding.ASCII.GetBytes(s.Length > keySize ? s[^keySize..] : s);
    }

    /// <summary>The <paramref name="p"/> quantile of sorted stopwatch ticks, in milliseconds (0 when empty).</summary>
    public static double Percentile(long[] sorted, double p) => sorted.Length == 0 ? 0 : Ms(sorted[Math.Min(sorted.Length - 1, (int)(p * sorted.Length))]);

    private static double Ms(long ticks) => ticks * 1000.0 / Stopwatch.Frequency;

    private static string TierName(ReadTier tier) => tier switch
    {
        ReadTier.Memory => "memory",
        ReadTier.Disk => "disk",
        ReadTier.Object => "object",
        ReadTier.NotFound => "not_found",
        _ => "unknown",
    };

    private const int PreloadCount = 20_000;

    /// <summary>Writes every key once (concurrently) so reads hit existing data.</summary>
    private async Task PreloadAsync(IKvDriver driver)
    {
        var value = new byte[options.ValueSize];
        var count = Math.Min(options.KeySpace, PreloadCount);
        var sem = new SemaphoreSlim(32);
        var tasks = new List<Task>();
        for (var i = 0; i < count; i++)
        {
            await sem.WaitAsync();
            var key = FormatKey(i, options.KeySize);
            tasks.Add(Task.Run(async () =>
            {
                try
                {
                    await driver.PutAsync(key, value);
                }
                finally
                {
                    sem.Release();
                }
            }));
        }

        await Task.WhenAll(tasks);
    }
}
