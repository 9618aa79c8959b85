using System.Collections.Concurrent;
using Grpc.Core;
using Grpc.Net.Client;
using RaftKv.Protocol.V1;
using RaftKv.Replication.Api;

namespace RaftKv.Server.Hosting;

/// <summary>
/// Per-follower replication lag, measured by the leader: every <see cref="Period"/> it asks each
/// other member for its status over gRPC and records <c>leader commit index − follower applied
/// index</c> (etcd reports the same through its per-member status); a follower behind is asked again
/// every 100 ms for up to <see cref="RecheckWindow"/> against the same commit index, so the moment between
/// a commit and the heartbeat that tells the follower about it (DotNext heartbeats every half election
/// timeout, 500 ms by default) does not count as lag. DotNext 6.12 keeps each
/// follower's match index private, so the follower's own applied index is the observable proxy.
/// </summary>
/// <remarks>
/// Runs on every node but only measures while this node leads; entries are dropped when leadership
/// moves or a member leaves. <see cref="Lags"/> is read concurrently by HTTP handlers and scrapes.
/// </remarks>
public sealed partial class FollowerLagMonitor(IKvNode node, ILogger<FollowerLagMonitor> logger) : BackgroundService
{
    public static readonly TimeSpan Period = TimeSpan.FromSeconds(2);

    /// <summary>How long a follower behind the round's commit index gets to catch up before its lag is
    /// recorded: longer than two heartbeats at the default election timeout, shorter than <see cref="Period"/>.</summary>
    public static readonly TimeSpan RecheckWindow = TimeSpan.FromMilliseconds(1500);

    private static readonly TimeSpan RecheckInterval = TimeSpan.FromMilliseconds(100);

    private readonly ConcurrentDictionary<string, GrpcChannel> _channels = new(StringComparer.Ordinal);

    /// <summary>Member id → last measurement (absent = not measured, or this node does not lead).</summary>
    public ConcurrentDictionary<long, FollowerLag> Lags { get; } = new();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Period);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                await MeasureAsync(stoppingToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping. Also when the host failed to start (a port in use) and disposes the service without a
            // StopAsync: the host would log the cancellation as a failed background service.
        }
    }

    /// <summary>One measurement round (public for tests and for /cluster freshness).</summary>
    public async Task MeasureAsync(CancellationToken cancellationToken)
    {
        var status = node.GetStatus();
        if (status.Role != "leader")
        {
            Lags.Clear();
            return;
        }

        var followers = status.Members.Where(m => !m.IsLocal && m.GrpcAddress.Length > 0).ToList();
        foreach (var stale in Lags.Keys.Except(followers.Select(f => f.Id)))
        {
            Lags.TryRemove(stale, out _);
        }

        await Task.WhenAll(followers.Select(f => MeasureOneAsync(f, status.CommitIndex, cancellationToken))).ConfigureAwait(false);
    }

    private async Task MeasureOneAsync(MemberInfo follower, long commitIndex, CancellationToken cancellationToken)
    {
        try
        {
            var channel = _channels.GetOrAdd(follower.GrpcAddress, a => GrpcChannel.ForAddress("http://" + a));
            var client = new Cluster.ClusterClient(channel);
            var applied = (long)(await client.StatusAsync(new StatusRequest(), deadline: DateTime.UtcNow.AddSeconds(1), cancellationToken: cancellationToken).ConfigureAwait(false)).AppliedIndex;
            // A follower learns that an entry committed with the next append or heartbeat, so right after
            // any commit (an idle leader commits a tick every second) it is "behind" for up to a heartbeat
            // interval. Keep asking for a while: lag counts entries committed at the start of the round that
            // it has still not applied by the end of the window.
            var until = DateTime.UtcNow + RecheckWindow;
            while (applied < commitIndex && DateTime.UtcNow < until)
            {
                await Task.Delay(RecheckInterval, cancellationToken).ConfigureAwait(false);
                applied = (long)(await client.StatusAsync(new StatusRequest(), deadline: DateTime.UtcNow.AddSeconds(1), cancellationToken: cancellationToken).ConfigureAwait(false)).AppliedIndex;
            }

            Lags[follower.Id] = new FollowerLag(applied, Math.Max(0, commitIndex - applied), DateTimeOffset.UtcNow);
        }
        catch (RpcException e)
        {
            Lags.TryRemove(follower.Id, out _);
            LogUnreachable(logger, follower.Id, e.StatusCode);
        }
    }

    public override void Dispose()
    {
        foreach (var c in _channels.Values)
        {
            c.Dispose();
        }

        base.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "lag probe of member {Id} failed: {Code}")]
    private static partial void LogUnreachable(ILogger logger, long id, StatusCode code);
}
