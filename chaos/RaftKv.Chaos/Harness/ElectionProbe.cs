using System.Diagnostics;
using Grpc.Net.Client;
using RaftKv.Protocol.V1;

namespace RaftKv.Chaos.Harness;

/// <summary>
/// Watches the side of a cut that lost its leader elect a new one: asks each of its nodes for its status
/// (<c>raftkv.v1.Cluster/Status</c>, 1 s deadline) every <see cref="Interval"/> until one answers as leader, and
/// returns when that answer arrived (the workers' monotonic clock, <see cref="Stopwatch.GetTimestamp"/>), or null if
/// none did before the token was cancelled. The time is an upper bound: the election finished before
/// the answer was sent, at most one poll round earlier on an idle machine.
/// </summary>
public static class ElectionProbe
{
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(100);

    public static async Task<long?> FirstLeaderAsync(IReadOnlyList<ChaosNode> side, CancellationToken until)
    {
        var channels = side.Select(n => GrpcChannel.ForAddress("http://" + n.Grpc)).ToList();
        try
        {
            while (!until.IsCancellationRequested)
            {
                foreach (var channel in channels)
                {
                    try
                    {
                        var s = await new Cluster.ClusterClient(channel).StatusAsync(new StatusRequest(), deadline: DateTime.UtcNow.AddSeconds(1), cancellationToken: until);
                        if (s.Role == "leader")
                        {
                            return Stopwatch.GetTimestamp();
                        }
                    }
                    catch (Grpc.Core.RpcException)
                    {
                        // Killed, paused, or too slow: ask the next one.
                    }
                }

                try
                {
                    await Task.Delay(Interval, until);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }

            return null;
        }
        finally
        {
            channels.ForEach(c => c.Dispose());
        }
    }
}
