using RaftKv.Replication;
using RaftKv.Server.Configuration;
using RaftKv.Tiering;

namespace RaftKv.Server.Hosting;

/// <summary>
/// Starts the replica before the listeners accept traffic and stops it after they have drained
/// (hosted services stop after the web server on SIGTERM): flushes the memtable, closes the WAL.
/// Before anything stops (<see cref="StoppingAsync"/>, while the listeners still serve), a leader hands
/// leadership off to another member (<see cref="KvNode.HandOffLeadershipAsync"/>). A member removed from the cluster
/// (<see cref="KvNode.Removed"/>) stops the process the same way, as etcd's does: exit code 0.
/// </summary>
public sealed partial class NodeLifetime(KvNode node, TieringHost tiering, TieringSetup setup, ServerConfig config, ILoggerFactory loggers, IHostApplicationLifetime lifetime) : IHostedLifecycleService
{
    /// <summary>How long a stopping leader waits for another member to take over.</summary>
    public static readonly TimeSpan HandOffTimeout = TimeSpan.FromSeconds(5);

    private readonly ILogger _logger = loggers.CreateLogger<NodeLifetime>();

    /// <summary>The object store settings, or null without one. Their <see cref="TieringOptions.NodePrefix"/> is the
    /// placeholder <c>{S3_PREFIX}nodes/{NODE_ID}/</c>: enough to read objects by their recorded names (restore); a node that
    /// archives sets <see cref="ArchivePrefix"/>.</summary>
    public static TieringOptions? TieringOptionsFor(ServerConfig config) => config.HasObjectStore
        ? new TieringOptions
        {
            Endpoint = config.S3Endpoint,
            Bucket = config.S3Bucket,
            Region = config.S3Region,
            AccessKey = config.S3AccessKey,
            SecretKey = config.S3SecretKey,
            NodePrefix = $"{config.S3Prefix}nodes/{config.NodeId}/",
            MigrationAge = TimeSpan.FromHours(config.DiskMigrationAgeHours),
            DiskMaxBytes = (long)(config.DiskMaxSizeGb * (1L << 30)),
            Interval = config.ArchiveInterval,
        }
        : null;

    /// <summary>Where this node archives: <c>{S3_PREFIX}nodes/{NODE_ID}/{archive-id}/</c>, unique per data directory
    /// (<see cref="ArchiveIdFile"/>), so that no other member of any cluster sharing the bucket writes or
    /// reconciles (deletes) objects under it.</summary>
    public static string ArchivePrefix(ServerConfig config, string archiveId) => $"{config.S3Prefix}nodes/{config.NodeId}/{archiveId}/";

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await node.StartAsync(cancellationToken).ConfigureAwait(false);
        await tiering.StartAsync(node, setup.Objects, setup.Options, loggers, cancellationToken).ConfigureAwait(false);
        _ = node.Removed.ContinueWith(
            _ =>
            {
                LogRemoved(_logger, config.NodeId);
                lifetime.StopApplication();
            },
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>After every hosted service has started, Kestrel's listeners included: "serving" only once the ports are bound.</summary>
    public Task StartedAsync(CancellationToken cancellationToken)
    {
        LogReady(_logger, config.NodeId, config.HttpPort, config.GrpcPort, config.RaftPort, config.DataDir);
        return Task.CompletedTask;
    }

    /// <summary>Runs before every hosted service's StopAsync (Kestrel's included): hands leadership off.</summary>
    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        try
        {
            await node.HandOffLeadershipAsync(HandOffTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            LogHandOffFailed(_logger, e.Message); // the stop goes on: the others elect a leader after a timeout
        }
    }

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        LogStopping(_logger, config.NodeId);
        await tiering.DisposeAsync().ConfigureAwait(false);
        await node.StopAsync(cancellationToken).ConfigureAwait(false);
        LogStopped(_logger, config.NodeId);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "raftkv node {NodeId} serving: HTTP :{HttpPort}, gRPC :{GrpcPort}, Raft :{RaftPort}, data {DataDir}")]
    private static partial void LogReady(ILogger logger, long nodeId, int httpPort, int grpcPort, int raftPort, string dataDir);

    [LoggerMessage(Level = LogLevel.Information, Message = "raftkv node {NodeId} stopping: draining, flushing")]
    private static partial void LogStopping(ILogger logger, long nodeId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Leadership hand-off failed: {Error}")]
    private static partial void LogHandOffFailed(ILogger logger, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "raftkv node {NodeId} has been permanently removed from the cluster: stopping")]
    private static partial void LogRemoved(ILogger logger, long nodeId);

    [LoggerMessage(Level = LogLevel.Information, Message = "raftkv node {NodeId} stopped cleanly")]
    private static partial void LogStopped(ILogger logger, long nodeId);
}
