using System.Collections.Concurrent;
using System.Text;
using RaftKv.Client;

namespace RaftKv.EndToEnd.Tests.Backup;

/// <summary>
/// A rolling restart under load: each node of a 3-node cluster in turn is stopped with SIGTERM (a leader
/// hands leadership off first) and started again, while workers put through the .NET client. Every put
/// must succeed after the client's retries, and every acknowledged write must be there afterwards.
/// </summary>
public sealed class RollingRestartTests
{
    [Fact]
    public async Task RollingRestartUnderLoadFailsNoRequestAndLosesNoAcknowledgedWrite()
    {
        using var cluster = new LocalCluster(3);
        cluster.StartAll();
        await cluster.WaitForLeaderAsync();
        await cluster.WaitReadyAsync();
        var acked = new ConcurrentDictionary<string, string>(StringComparer.Ordinal);
        var failures = new ConcurrentQueue<string>();
        using var stop = new CancellationTokenSource();
        using var client = new RaftKvClient(cluster.Nodes.Select(n => n.Grpc), new RaftKvClientOptions { RetryBudget = TimeSpan.FromSeconds(30) });
        const int Workers = 4;
        const int MaxPutsPerWorker = 20_000; // bounded load
        var workers = Enumerable.Range(0, Workers).Select(w => Task.Run(async () =>
        {
            for (var i = 0; i < MaxPutsPerWorker && !stop.IsCancellationRequested; i++)
            {
                var key = $"rr/{w}/{i:D6}";
                var value = $"v{w}-{i}";
                try
                {
                    await client.PutAsync(Encoding.UTF8.GetBytes(key), Encoding.UTF8.GetBytes(value));
                    acked[key] = value;
                }
                catch (Exception e) when (e is Grpc.Core.RpcException or InvalidOperationException)
                {
                    failures.Enqueue($"{key}: {e.Message}");
                }
            }
        })).ToArray();

        async Task WaitForProgressAsync()
        {
            var target = acked.Count + 50;
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
            while (acked.Count < target && failures.IsEmpty && DateTime.UtcNow < deadline && !workers.All(t => t.IsCompleted))
            {
                await Task.Delay(Poll.Interval);
            }
        }

        await WaitForProgressAsync();
        foreach (var node in cluster.Nodes)
        {
            Assert.Equal(0, await node.TerminateAsync(TimeSpan.FromSeconds(60)));
            node.Start();
            await cluster.WaitReadyAsync();
            await cluster.WaitForLeaderAsync();
            await WaitForProgressAsync(); // the cluster takes writes again before the next node goes
        }

        await stop.CancelAsync();
        await Task.WhenAll(workers);
        Assert.True(failures.IsEmpty, $"{failures.Count} puts failed after retries, e.g. {string.Join("; ", failures.Take(3))}");
        Assert.True(acked.Count > 200, $"only {acked.Count} puts acknowledged");
        foreach (var (key, value) in acked)
        {
            var kv = await client.GetAsync(Encoding.UTF8.GetBytes(key));
            Assert.True(kv is not null && kv.Value.ToStringUtf8() == value, $"acknowledged write {key}={value} reads {kv?.Value.ToStringUtf8() ?? "(missing)"}");
        }

        Assert.Contains(cluster.Nodes, n => n.Log().Contains("handed leadership off", StringComparison.Ordinal));
    }
}
