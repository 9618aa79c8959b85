using System.Diagnostics;
using System.Globalization;
using RaftKv.Client;

namespace RaftKv.Bench.Load;

/// <summary>
/// The soak load (bench/soak.sh): a paced mixed workload (90 % linearizable gets, 10 % puts) at a fixed
/// total rate through the RaftKv client with every endpoint (it follows leader changes and retries),
/// for a duration; every interval it prints one JSON line to stdout:
/// <c>{"t":s,"ops":n,"errors":n,"p50_ms":x,"p99_ms":x,"max_ms":x}</c> (latencies of that interval only,
/// retries included, so a leader kill shows as a latency spike rather than as errors).
/// </summary>
public sealed class SoakRunner(IReadOnlyList<string> endpoints, int clients, double rate, TimeSpan duration, TimeSpan interval, int seed)
{
    private const int KeySpace = 20_000;

    public async Task RunAsync()
    {
        using var client = new RaftKvClient(endpoints);
        var samples = new List<long>();
        long errors = 0;
        var sampleLock = new Lock();
        var start = Stopwatch.GetTimestamp();
        var perClient = rate / clients;
        using var stop = new CancellationTokenSource(duration);
        var workers = Enumerable.Range(0, clients).Select(c => Task.Run(async () =>
        {
            var rng = new Random(seed + c);
            var value = new byte[256];
            rng.NextBytes(value);
            for (long n = 0; !stop.IsCancellationRequested; n++)
            {
                // Paced: operation n of this client starts at n / perClient seconds (no catch-up bursts after a stall).
                var due = TimeSpan.FromSeconds(n / perClient) - Stopwatch.GetElapsedTime(start);
                if (due > TimeSpan.Zero)
                {
                    await Task.Delay(due).ConfigureAwait(false);
                }
                else if (due < -TimeSpan.FromSeconds(1))
                {
                    n = (long)(Stopwatch.GetElapsedTime(start).TotalSeconds * perClient);
                }

                var key = System.Text.Encoding.ASCII.GetBytes(rng.Next(KeySpace).ToString("D8", CultureInfo.InvariantCulture));
                var t0 = Stopwatch.GetTimestamp();
                try
                {
                    if (rng.Next(10) == 0)
                    {
                        await client.PutAsync(key, value).ConfigureAwait(false);
                    }
                    else
                    {
                        await client.GetAsync(key).ConfigureAwait(false);
                    }

                    var took = Stopwatch.GetTimestamp() - t0;
                    lock (sampleLock)
                    {
                        samples.Add(took);
                    }
                }
                catch (Exception e) when (e is Grpc.Core.RpcException or InvalidOperationException or TimeoutException)
                {
                    Interlocked.Increment(ref errors);
                }
            }
        })).ToList();

        while (!stop.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(interval, stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }

            long[] window;
            lock (sampleLock)
            {
                window = [.. samples];
                samples.Clear();
            }

            Array.Sort(window);
            double Ms(long ticks) => ticks * 1000.0 / Stopwatch.Frequency;
            double Pct(double p) => window.Length == 0 ? 0 : Ms(window[Math.Min(window.Length - 1, (int)(p * window.Length))]);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{{\"t\":{Stopwatch.GetElapsedTime(start).TotalSeconds:F0},\"ops\":{window.Length},\"errors\":{Interlocked.Exchange(ref errors, 0)},\"p50_ms\":{Pct(0.5):F2},\"p99_ms\":{Pct(0.99):F2},\"max_ms\":{(window.Length == 0 ? 0 : Ms(window[^1])):F2}}}"));
        }

        await Task.WhenAll(workers).ConfigureAwait(false);
    }
}
