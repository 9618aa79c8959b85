using System.Buffers.Binary;
using System.Diagnostics;
using Google.Protobuf;
using Grpc.Core;
using RaftKv.Bench.Load;
using RaftKv.Protocol.Etcd;

namespace RaftKv.Bench.Watch;

/// <summary>
/// <c>raftkv-bench watch</c>: many watchers on one prefix under a paced put load, through etcd's v3 Watch and KV
/// APIs (so the same client measures etcd and RaftKv's etcd API). Each put's value starts with the sender's
/// <see cref="Stopwatch"/> timestamp (8 bytes, little-endian); a watcher's delivery lag is the time from that put
/// being sent to its event being decoded here. Puts sent during the warm-up are not counted; after the measured
/// window the run waits up to <c>--drain</c> for the events still in flight. Delivered = events received for puts
/// sent in the window; expected = those puts acknowledged × watchers (a watch that misses events shows as
/// delivered &lt; expected).
/// </summary>
public sealed class WatchBenchmark(WatchOptions options)
{
    private static readonly byte[] Prefix = "wbench/"u8.ToArray();
    private static readonly byte[] PrefixEnd = "wbench0"u8.ToArray(); // '/' + 1

    private long _measureStart = long.MaxValue;
    private long _measureEnd = long.MaxValue;
    private long _delivered;
    private long _created;
    private long _canceled;

    public async Task<WatchResult> RunAsync()
    {
        var tls = options.CaCert is null ? null : new RaftKv.Client.ClientTls(options.CaCert, null, null);
        var channels = options.WatchEndpoints.Select(e => RaftKvDriver.Open(e, tls)).ToList();
        var drivers = Enumerable.Range(0, options.Clients).Select(_ => new EtcdDriver(options.Endpoints[0], tls)).ToList();
        using var stop = new CancellationTokenSource();
        var lags = new List<long>[options.Streams];
        var readers = new List<Task>();
        var calls = new List<AsyncDuplexStreamingCall<WatchRequest, WatchResponse>>();
        try
        {
            for (var s = 0; s < options.Streams; s++)
            {
                var call = new Protocol.Etcd.Watch.WatchClient(channels[s % channels.Count]).Watch(cancellationToken: stop.Token);
                calls.Add(call);
                lags[s] = [];
                readers.Add(ReadAsync(call.ResponseStream, lags[s], stop.Token));
                var count = (options.Watchers / options.Streams) + (s < options.Watchers % options.Streams ? 1 : 0);
                for (var w = 0; w < count; w++)
                {
                    await call.RequestStream.WriteAsync(new WatchRequest { CreateRequest = new WatchCreateRequest { Key = ByteString.CopyFrom(Prefix), RangeEnd = ByteString.CopyFrom(PrefixEnd) } });
                }
            }

            var createDeadline = Stopwatch.GetTimestamp() + (Stopwatch.Frequency * 60);
            while (Interlocked.Read(ref _created) < options.Watchers)
            {
                if (Stopwatch.GetTimestamp() > createDeadline || readers.Any(r => r.IsCompleted))
                {
                    throw new InvalidOperationException($"only {Interlocked.Read(ref _created)} of {options.Watchers} watchers were created");
                }

                await Task.Delay(10);
            }

            var start = Stopwatch.GetTimestamp();
            Volatile.Write(ref _measureStart, start + (long)(options.Warmup.TotalSeconds * Stopwatch.Frequency));
            Volatile.Write(ref _measureEnd, _measureStart + (long)(options.Duration.TotalSeconds * Stopwatch.Frequency));
            var puts = await Task.WhenAll(drivers.Select((d, i) => PutLoopAsync(d, i, start)));
            var acked = puts.Sum(p => p.Acked);
            var expected = acked * options.Watchers;
            var drainDeadline = Stopwatch.GetTimestamp() + (long)(options.Drain.TotalSeconds * Stopwatch.Frequency);
            while (Interlocked.Read(ref _delivered) < expected && Stopwatch.GetTimestamp() < drainDeadline)
            {
                await Task.Delay(20);
            }

            await stop.CancelAsync();
            await Task.WhenAll(readers.Select(r => r.ContinueWith(_ => { }, TaskScheduler.Default)));
            var all = lags.SelectMany(l => l).Order().ToArray();
            return new WatchResult(options.Watchers, options.Streams, options.Rate, options.Duration.TotalSeconds, acked, puts.Sum(p => p.Errors), expected,
                Interlocked.Read(ref _delivered), Interlocked.Read(ref _canceled), Ms(all, 0.50), Ms(all, 0.99), Ms(all, 1.0));
        }
        finally
        {
            await stop.CancelAsync();
            calls.ForEach(c => c.Dispose());
            drivers.ForEach(d => d.Dispose());
            channels.ForEach(c => c.Dispose());
        }
    }

    private async Task ReadAsync(IAsyncStreamReader<WatchResponse> stream, List<long> lags, CancellationToken cancellationToken)
    {
        try
        {
            while (await stream.MoveNext(cancellationToken))
            {
                var r = stream.Current;
                if (r.Created)
                {
                    Interlocked.Increment(ref _created);
                }

                if (r.Canceled)
                {
                    Interlocked.Increment(ref _canceled);
                }

                var now = Stopwatch.GetTimestamp();
                foreach (var e in r.Events)
                {
                    if (e.Type != Protocol.Etcd.Mvccpb.Event.Types.EventType.Put || e.Kv.Value.Length < 8)
                    {
                        continue;
                    }

                    var sent = BinaryPrimitives.ReadInt64LittleEndian(e.Kv.Value.Span);
                    if (sent >= Volatile.Read(ref _measureStart) && sent < Volatile.Read(ref _measureEnd))
                    {
                        lags.Add(now - sent);
                        Interlocked.Increment(ref _delivered);
                    }
                }
            }
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.Cancelled || cancellationToken.IsCancellationRequested)
        {
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Client <paramref name="index"/>'s share of the rate, paced against the clock (it catches up after a
    /// slow put rather than drifting), until the measured window ends.</summary>
    private async Task<(long Acked, long Errors)> PutLoopAsync(EtcdDriver driver, int index, long start)
    {
        var perClient = options.Rate / options.Clients;
        var random = new Random(index);
        long sent = 0, acked = 0, errors = 0;
        var value = new byte[options.ValueSize];
        while (true)
        {
            var now = Stopwatch.GetTimestamp();
            if (now >= Volatile.Read(ref _measureEnd))
            {
                return (acked, errors);
            }

            var due = (long)((now - start) * perClient / Stopwatch.Frequency);
            if (sent >= due)
            {
                await Task.Delay(1);
                continue;
            }

            sent++;
            var key = System.Text.Encoding.ASCII.GetBytes($"wbench/{random.Next(options.KeySpace):D8}");
            var ts = Stopwatch.GetTimestamp();
            BinaryPrimitives.WriteInt64LittleEndian(value, ts);
            try
            {
                await driver.PutAsync(key, (byte[])value.Clone());
                if (ts >= _measureStart)
                {
                    acked++;
                }
            }
            catch (RpcException)
            {
                errors++;
            }
        }
    }

    private static double Ms(long[] sorted, double q)
        => sorted.Length == 0 ? 0 : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(q * sorted.Length) - 1)] * 1000.0 / Stopwatch.Frequency;
}
