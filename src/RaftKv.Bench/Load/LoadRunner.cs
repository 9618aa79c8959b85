using System.Diagnostics;

namespace RaftKv.Bench.Load;

/// <summary>
/// etcd-benchmark-style load: N clients, each on its own connection with one request in flight,
/// bounded by total requests and/or duration; the warm-up is excluded from the figures.
/// A live ops/s line goes to stderr.
/// </summary>
public sealed class LoadRunner(LoadOptions options)
{
    public async Task<LoadResult> RunAsync()
    {
        var endpoint = options.Target == "raftkv" ? await RaftKvDriver.FindLeaderAsync(options.Endpoints, options.Tls, options.User) : options.Endpoints[0];
        using var credentials = options.User is { } u ? new BenchCredentials(endpoint, options.Tls, u.Name, u.Password) : null;
        if (credentials is not null)
        {
            await credentials.RefreshAsync(null); // before the clock starts; a bad password fails the run here
        }

        var drivers = Enumerable.Range(0, options.Clients).Select(_ => options.Target == "raftkv" ? (IKvDriver)new RaftKvDriver(endpoint, options.Tls, credentials) : new EtcdDriver(endpoint, options.Tls, credentials)).ToList();
        try
        {
            if (options.Preload && options.Workload is "get" or "get-serializable" or "mixed" or "range")
            {
                await PreloadAsync(drivers[0]);
            }

            var samples = new List<long>[options.Clients];
            long completed = 0, errors = 0;
            var measuring = false;
            var measureStart = 0L;
            using var stop = new CancellationTokenSource();
            var tasks = Enumerable.Range(0, options.Clients).Select(c => Task.Run(async () =>
            {
                var rng = new Random(options.Seed + c);
                var list = samples[c] = new List<long>(1 << 16);
                var value = new byte[options.Workload == "large" ? 64 << 10 : options.ValueSize];
                rng.NextBytes(value);
                while (!stop.IsCancellationRequested)
                {
                    var key = Key(rng.Next(options.Workload is "put" or "large" ? options.KeySpace : Math.Min(options.KeySpace, PreloadCount)));
                    var t0 = Stopwatch.GetTimestamp();
                    try
                    {
                        await Op(drivers[c], rng, key, value);
                    }
                    catch (Grpc.Core.RpcException)
                    {
                        Interlocked.Increment(ref errors);
                        continue;
                    }

                    if (Volatile.Read(ref measuring))
                    {
                        list.Add(Stopwatch.GetTimestamp() - t0);
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
            double Ms(long ticks) => ticks * 1000.0 / Stopwatch.Frequency;
            double Pct(double p) => all.Length == 0 ? 0 : Ms(all[Math.Min(all.Length - 1, (int)(p * all.Length))]);
            return new LoadResult(options.Target, options.Workload, options.Clients, all.Length, errors, seconds, Pct(0.50), Pct(0.90), Pct(0.99), all.Length == 0 ? 0 : Ms(all[^1]));
        }
        finally
        {
            drivers.ForEach(d => d.Dispose());
        }
    }

    private Task Op(IKvDriver d, Random rng, byte[] key, byte[] value) => options.Workload switch
    {
        "put" or "large" => d.PutAsync(key, value),
        "get" => d.GetAsync(key, serializable: false),
        "get-serializable" => d.GetAsync(key, serializable: true),
        "mixed" => rng.Next(10) == 0 ? d.PutAsync(key, value) : d.GetAsync(key, serializable: false),
        "range" => d.RangeAsync(key, 100),
        _ => throw new ArgumentException($"unknown workload '{options.Workload}'"),
    };

    private byte[] Key(int i)
    {
        var s = i.ToString("D" + options.KeySize, System.Globalization.CultureInfo.InvariantCulture);
        return System.Text.Encoding.ASCII.GetBytes(s.Length > options.KeySize ? s[^options.KeySize..] : s);
    }

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
            var key = Key(i);
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
