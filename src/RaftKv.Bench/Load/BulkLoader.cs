using System.Diagnostics;

namespace RaftKv.Bench.Load;

/// <summary>
/// The <c>load</c> workload: writes every key of [0, <c>--key-space</c>) exactly once, in index order, with a
/// fresh random (incompressible) value of <c>--value-size</c> bytes each, <c>--batch</c> keys per request (a
/// transaction of puts; 1 = plain puts), from <c>--clients</c> connections each claiming the next batch. A
/// refused batch is retried (up to 5 times, backing off) so the data set is complete; one that still fails
/// counts as an error. A batch refused for space (RESOURCE_EXHAUSTED: etcd's "database space exceeded",
/// RaftKv's NOSPACE alarm) stops the whole load: the result then holds fewer keys than the key space. No warm-up and no duration bound: the run ends when every key is written. Latencies
/// are per request (batch). A later <c>get --skip-load</c> reads the whole key space.
/// </summary>
public sealed class BulkLoader(LoadOptions options, IReadOnlyList<IKvDriver> drivers)
{
    public async Task<LoadResult> RunAsync()
    {
        var batch = Math.Max(1, options.Batch);
        long next = 0, written = 0, errors = 0;
        var full = false;
        var samples = new List<long>[drivers.Count];
        var start = Stopwatch.GetTimestamp();
        var tasks = Enumerable.Range(0, drivers.Count).Select(c => Task.Run(async () =>
        {
            var rng = new Random(options.Seed + c);
            var list = samples[c] = [];
            var buffer = new byte[batch * options.ValueSize];
            while (!Volatile.Read(ref full))
            {
                var first = Interlocked.Add(ref next, batch) - batch;
                if (first >= options.KeySpace)
                {
                    return;
                }

                var count = (int)Math.Min(batch, options.KeySpace - first);
                rng.NextBytes(buffer);
                var keys = new byte[count][];
                var values = new ReadOnlyMemory<byte>[count];
                for (var i = 0; i < count; i++)
                {
                    keys[i] = LoadRunner.FormatKey(first + i, options.KeySize);
                    values[i] = buffer.AsMemory(i * options.ValueSize, options.ValueSize);
                }

                var t0 = Stopwatch.GetTimestamp();
                switch (await WriteAsync(drivers[c], keys, values))
                {
                    case Outcome.Written:
                        list.Add(Stopwatch.GetTimestamp() - t0);
                        Interlocked.Add(ref written, count);
                        break;
                    case Outcome.NoSpace:
                        Interlocked.Increment(ref errors);
                        Volatile.Write(ref full, true);
                        break;
                    default:
                        Interlocked.Increment(ref errors);
                        break;
                }
            }
        })).ToList();

        var all = Task.WhenAll(tasks);
        var last = 0L;
        while (await Task.WhenAny(all, Task.Delay(TimeSpan.FromSeconds(1))) != all)
        {
            var now = Interlocked.Read(ref written);
            Console.Error.Write($"\r[{options.Target} load x{drivers.Count} batch {batch}] {Stopwatch.GetElapsedTime(start).TotalSeconds,5:F0}s {now - last,8} keys/s  {now}/{options.KeySpace} keys   ");
            last = now;
        }

        await all;
        var seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        Console.Error.WriteLine();
        var sorted = samples.SelectMany(s => s).Order().ToArray();
        return new LoadResult(options.Target, "load", drivers.Count, sorted.Length, errors, seconds,
            LoadRunner.Percentile(sorted, 0.50), LoadRunner.Percentile(sorted, 0.90), LoadRunner.Percentile(sorted, 0.99), LoadRunner.Percentile(sorted, 1.0))
        {
            Keys = written,
            Bytes = written * (options.KeySize + options.ValueSize),
        };
    }

    private enum Outcome
    {
        Written,
        Failed,
        NoSpace,
    }

    private static async Task<Outcome> WriteAsync(IKvDriver driver, byte[][] keys, ReadOnlyMemory<byte>[] values)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                if (keys.Length == 1)
                {
                    await driver.PutAsync(keys[0], values[0].ToArray());
                }
                else
                {
                    await driver.PutBatchAsync(keys, values);
                }

                return Outcome.Written;
            }
            catch (Grpc.Core.RpcException e) when (e.StatusCode == Grpc.Core.StatusCode.ResourceExhausted)
            {
                Console.Error.WriteLine($"\nbatch at key {System.Text.Encoding.ASCII.GetString(keys[0])} refused for space, stopping the load: {e.Status.Detail}");
                return Outcome.NoSpace;
            }
            catch (Grpc.Core.RpcException) when (attempt < 5)
            {
                await Task.Delay(100 << attempt);
            }
            catch (Grpc.Core.RpcException e)
            {
                Console.Error.WriteLine($"\nbatch at key {System.Text.Encoding.ASCII.GetString(keys[0])} failed: {e.Status}");
                return Outcome.Failed;
            }
        }
    }
}
