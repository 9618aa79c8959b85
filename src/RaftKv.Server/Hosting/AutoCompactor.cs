using RaftKv.Replication.Api;
using RaftKv.Server.Configuration;

namespace RaftKv.Server.Hosting;

/// <summary>
/// Auto-compaction (AUTO_COMPACTION_MODE / AUTO_COMPACTION_RETENTION, see <see cref="AutoCompaction"/>): runs on every
/// node so each one keeps its revision samples, but only the leader acts, and it acts through the replicated Compact
/// command (<see cref="IKvNode.CompactRevisionAsync"/>, logical: every replica compacts at the same log index; the
/// history is then removed from disk lazily by LSM compactions). A failed attempt (no quorum, leadership moved, a
/// concurrent compaction got there first) is logged and retried at the next decision.
/// </summary>
public sealed partial class AutoCompactor(IKvNode node, ServerConfig config, ILogger<AutoCompactor> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (config.AutoCompaction.Mode == AutoCompactionMode.Off)
        {
            return;
        }

        var policy = new AutoCompactionPolicy(config.AutoCompaction);
        LogEnabled(logger, config.AutoCompaction.Mode, config.AutoCompaction.Retention, config.AutoCompaction.RetainRevisions);
        using var timer = new PeriodicTimer(policy.Interval);
        try
        {
            await CompactOnTicksAsync(timer, policy, stoppingToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping (also a host that failed to start and disposes the service: not a failure).
        }
    }

    private async Task CompactOnTicksAsync(PeriodicTimer timer, AutoCompactionPolicy policy, CancellationToken stoppingToken)
    {
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
        {
            if (policy.Tick(DateTimeOffset.UtcNow, node.Revision, node.CompactRevision) is not { } target || !node.IsLeader)
            {
                continue;
            }

            try
            {
                await node.CompactRevisionAsync(target, physical: false, stoppingToken).ConfigureAwait(false);
                LogCompacted(logger, target);
            }
            catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                LogFailed(logger, target, e.GetType().Name, e.Message);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Auto-compaction on: mode {Mode}, retention {Retention} / {Revisions} revisions")]
    private static partial void LogEnabled(ILogger logger, AutoCompactionMode mode, TimeSpan retention, long revisions);

    [LoggerMessage(Level = LogLevel.Information, Message = "Auto-compaction: compacted to revision {Revision}")]
    private static partial void LogCompacted(ILogger logger, long revision);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Auto-compaction to revision {Revision} failed ({Error}: {Reason}); retried at the next decision")]
    private static partial void LogFailed(ILogger logger, long revision, string error, string reason);
}
