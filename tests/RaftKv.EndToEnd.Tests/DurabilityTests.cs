using System.Collections.Concurrent;
using System.Text;
using RaftKv.Client;
using Xunit.Abstractions;

namespace RaftKv.EndToEnd.Tests;

/// <summary>
/// docs/architecture.md (PUT path): "A write is acknowledged only after its entry is committed on a quorum and fsynced
/// there." DotNext's WAL forgets entries past its last checkpoint when it reopens, so an
/// acknowledgement that runs ahead of the checkpoint on a quorum is lost by a whole-cluster crash.
/// </summary>
public sealed class DurabilityTests(ITestOutputHelper output)
{
    private const int Writers = 12;

    [Fact]
    public async Task KillingEveryNodeUnderLoadLosesNoAcknowledgedWrite()
    {
        using var c = new LocalCluster(3);
        c.StartAll();
        await c.WaitForLeaderAsync();
        await c.WaitReadyAsync();

        var acked = new ConcurrentDictionary<string, string>(StringComparer.Ordinal);
        for (var round = 0; round < 2; round++)
        {
            var before = acked.Count;
            using var stop = new CancellationTokenSource();
            var options = new RaftKvClientOptions { RetryBudget = TimeSpan.FromMilliseconds(500), AttemptTimeout = TimeSpan.FromSeconds(2) };
            var writers = Enumerable.Range(0, Writers).Select(w => Task.Run(async () =>
            {
                using var client = new RaftKvClient(c.Nodes.Select(n => n.Grpc), options);
                for (var i = 0; !stop.IsCancellationRequested; i++)
                {
                    var key = $"d/{round}/{w}/{i}";
                    try
                    {
                        await client.PutAsync(Encoding.UTF8.GetBytes(key), Encoding.UTF8.GetBytes(key), cancellationToken: CancellationToken.None);
                        acked[key] = key;
                    }
                    catch (Exception e) when (e is Grpc.Core.RpcException or OperationCanceledException or HttpRequestException)
                    {
                        if (stop.IsCancellationRequested)
                        {
                            return;
                        }
                    }
                }
            })).ToList();

            // Let a steady stream of acknowledgements build up, then crash every node at once.
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
            while (acked.Count < before + 400)
            {
                Assert.True(DateTime.UtcNow < deadline, $"writes did not progress (acked {acked.Count - before})");
                await Task.Delay(Poll.Interval);
            }

            Parallel.ForEach(c.Nodes, n => n.Kill());
            await stop.CancelAsync();
            await Task.WhenAll(writers);
            output.WriteLine($"round {round}: {acked.Count - before} writes acknowledged before the crash");

            c.StartAll();
            await c.WaitForLeaderAsync();
            await c.WaitReadyAsync();
        }

        using var reader = new RaftKvClient(c.Nodes.Select(n => n.Grpc));
        var lost = new List<string>();
        foreach (var key in acked.Keys.Order(StringComparer.Ordinal))
        {
            if (await reader.GetAsync(Encoding.UTF8.GetBytes(key)) is null)
            {
                lost.Add(key);
            }
        }

        Assert.True(lost.Count == 0, $"{lost.Count} of {acked.Count} acknowledged writes lost, e.g. {string.Join(", ", lost.Take(10))}");
    }
}
