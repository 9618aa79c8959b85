namespace RaftKv.Replication;

public sealed partial class KvNode
{
    /// <summary>How often at most a failed rebuild of the TTL expiry schedule is tried again.</summary>
    private const long ExpiryRebuildRetryMs = 60_000;

    // Touched by the tick loop only (KvNode.Background.cs): the running rebuild and when the last one started;
    // _expiryRebuildFailed is written by the rebuild's task before it ends (read after IsCompleted).
    private Task? _expiryRebuild;
    private long _expiryRebuildStartedAt;
    private volatile bool _expiryRebuildFailed;

    /// <summary>Rebuilds completed (tests).</summary>
    internal long ExpiryRebuilds => Interlocked.Read(ref _expiryRebuilds);

    private long _expiryRebuilds;

    /// <summary>
    /// Tick loop, every pass and on every member: after a start or a snapshot installation the TTL expiry schedule lacks
    /// the expiries of keys written before (<see cref="State.ExpirySchedule"/>), so an idle leader would tick every interval
    /// until they have all passed — hours for an hour's TTL. One keys-only scan of the metadata records in the background
    /// completes it (<see cref="State.KvState.RebuildExpirySchedule"/>); one at a time, a failed one retried after a minute.
    /// </summary>
    private void MaybeRebuildExpirySchedule(CancellationToken token)
    {
        if (_expiryRebuild is { IsCompleted: false }
            || (_expiryRebuildFailed && Environment.TickCount64 - _expiryRebuildStartedAt < ExpiryRebuildRetryMs)
            || !_state.ExpiryScheduleNeedsRebuild)
        {
            return;
        }

        _expiryRebuildStartedAt = Environment.TickCount64;
        _expiryRebuildFailed = false;
        _expiryRebuild = Task.Run(
            () =>
            {
                try
                {
                    if (_state.RebuildExpirySchedule(token))
                    {
                        Interlocked.Increment(ref _expiryRebuilds);
                    }
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    _expiryRebuildFailed = true;
                    LogBackgroundError(_logger, "TTL expiry schedule rebuild", e.Message);
                }
            },
            CancellationToken.None);
    }

    /// <summary>Tick loop, on the way out: waits for a running rebuild (cancelled with the node) so it never scans a
    /// disposed store.</summary>
    private async Task StopExpiryRebuildAsync()
    {
        if (_expiryRebuild is { } rebuild)
        {
            try
            {
                await rebuild.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
        }
    }
}
