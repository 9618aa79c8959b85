using RaftKv.Replication.Commands;
using RaftKv.Replication.Log;

namespace RaftKv.Replication;

public sealed partial class KvNode
{
    /// <summary>Entries applied since the last snapshot that trigger a new one (and log truncation).</summary>
    public long SnapshotEveryEntries { get; init; } = 50_000;

    /// <summary>A snapshot is refreshed (re-taken at the same index) when it alone keeps at least this many
    /// bytes of table files on local disk — tables archived or compacted away since it was taken — and at
    /// least a quarter of what the live store keeps locally; checked at most every 30 s.</summary>
    public long SnapshotRefreshMinBytes { get; init; } = 64L << 20;

    /// <summary>How long after a snapshot (or a reference to one) was last sent the idle leader keeps ticking: a member
    /// pulling a snapshot whose answer was lost waits for the leader's applied index to move (RaftLog.SnapshotPull.cs).</summary>
    private const long TickAfterSnapshotSentMs = 60_000;

    /// <summary>Tick entries proposed (metrics, tests); counted when proposed, whether or not the proposal then commits.</summary>
    public long TicksProposed => Interlocked.Read(ref _ticksProposed);

    /// <summary>Wake-ups of the tick loop, whether or not it proposed (tests: a window of idle passes).</summary>
    internal long TickLoopPasses => Interlocked.Read(ref _tickLoopPasses);

    private long _ticksProposed;
    private long _tickLoopPasses;

    /// <summary>
    /// An idle leader proposes a Tick every <see cref="KvNodeOptions.TickInterval"/>, while one is needed. The logical
    /// clock moves only with entries, and a key written with a TTL expires only once the clock passes its expiry, so the
    /// leader ticks when an applied expiry is due (<see cref="State.KvState.TtlTickDue"/>; every interval while it cannot
    /// tell, e.g. after a restart until a scan has found the TTL keys written before, <c>KvNode.TtlTicks.cs</c>). For a
    /// minute after a snapshot was sent, whose pulling member may need the applied index to move. And once when no entry
    /// of the leader's term has been applied: a leader elected by a vote appends one (DotNext's no-op), but a
    /// single-member cluster starts as leader of its stored term without one, and a linearizable read waits for an
    /// applied entry of the current term (Raft §8, <c>KvNode.Read.cs</c>); the loop's first pass runs without waiting
    /// for the timer, so such a member's first reads do not wait a tick interval.
    /// Otherwise an idle cluster appends nothing (no fsync, no snapshot), as etcd's.
    /// </summary>
    private async Task TickLoopAsync()
    {
        var token = _stop.Token;
        using var timer = new PeriodicTimer(_options.TickInterval, _options.TimeProvider);
        string? lastError = null; // logged once per change, not once per tick
        var first = true; // the first pass runs at once: a single member restarted as leader proposes its term-start tick now
        while ((first || await WaitTickAsync(timer, token).ConfigureAwait(false)) && !token.IsCancellationRequested)
        {
            first = false;
            Interlocked.Increment(ref _tickLoopPasses);
            MaybeRebuildExpirySchedule(token); // KvNode.TtlTicks.cs
            if (!IsLeader || Environment.TickCount64 - Interlocked.Read(ref _lastWriteTicks) < _options.TickInterval.TotalMilliseconds || !IdleTickNeeded())
            {
                continue;
            }

            try
            {
                // Counted before the proposal: its entry can be applied, and a reader see its effect (an expired key),
                // before ProposeAsync returns.
                Interlocked.Increment(ref _ticksProposed);
                await ProposeAsync(new KvCommand(CommandKind.Tick, NextTimestamp(), null, null), token).ConfigureAwait(false);
                if (lastError is not null)
                {
                    lastError = null;
                    LogBackgroundRecovered(_logger, "tick");
                }
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                var kind = e.GetType().Name;
                if (kind != lastError)
                {
                    lastError = kind;
                    LogBackgroundError(_logger, "tick", e.Message);
                }
            }
        }

        await StopExpiryRebuildAsync().ConfigureAwait(false);
    }

    private bool IdleTickNeeded()
        => _state.TermAt(_log.LastAppliedIndex) < _log.Term // no entry of this term applied yet: reads wait for one (KvNode.Read.cs)
        || _state.TtlTickDue(_options.TimeProvider.GetUtcNow().ToUnixTimeMilliseconds())
        || (_log is RaftLog log && log.MillisecondsSinceSnapshotSent < TickAfterSnapshotSentMs);

    private async Task SnapshotLoopAsync()
    {
        var token = _stop.Token;
        var lastSnapshotAt = Environment.TickCount64;
        var lastPinCheck = Environment.TickCount64;
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(2));
        while (await WaitTickAsync(timer, token).ConfigureAwait(false) && !token.IsCancellationRequested)
        {
            var snapshotIndex = _state.Snapshot?.Index ?? 0;
            var applied = _store.AppliedIndex;
            var due = applied - snapshotIndex >= SnapshotEveryEntries
                || (applied > snapshotIndex && Environment.TickCount64 - lastSnapshotAt > 60_000);
            var refresh = false;
            if (!due && Environment.TickCount64 - lastPinCheck > 30_000)
            {
                lastPinCheck = Environment.TickCount64;
                refresh = SnapshotPinsLocalDisk();
            }

            if (!due && !refresh)
            {
                continue;
            }

            try
            {
                await _state.TakeSnapshotAsync(refresh, token).ConfigureAwait(false);
                lastSnapshotAt = Environment.TickCount64;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogBackgroundError(_logger, "snapshot", e.Message);
            }
        }
    }

    /// <summary>True when the current snapshot alone keeps <see cref="SnapshotRefreshMinBytes"/> or more of table
    /// files on local disk, and at least a quarter of the live store's local bytes.</summary>
    private bool SnapshotPinsLocalDisk()
    {
        var tables = _tiered.ListTables();
        var local = tables.Where(t => !t.IsRemote).Select(t => t.Id).ToHashSet();
        var pinned = _state.SnapshotOnlyBytes(local, Path.Combine(_options.DataDir, "lsm"));
        return pinned >= SnapshotRefreshMinBytes && pinned >= _tiered.LocalDiskBytes / 4;
    }

    private async Task MetadataLoopAsync()
    {
        var token = _stop.Token;
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(500));
        do
        {
            try
            {
                await RefreshMetadataAsync(token).ConfigureAwait(false);
                await LearnUnknownIdsAsync(token).ConfigureAwait(false); // KvNode.MemberIds.cs
                UpdateValueSeparation(); // KvNode.Space.cs
                UpdateSnapshotPull(); // KvNode.SnapshotPull.cs
                await RepairPromotedLearnersAsync().ConfigureAwait(false); // KvNode.Learners.cs
                await RejoinMovedMembersAsync(token).ConfigureAwait(false); // KvNode.MemberUpdate.cs
                await EnsureClusterUidAsync(token).ConfigureAwait(false); // KvNode.ClusterUid.cs
                await EnsureAuthTokenKeyAsync(token).ConfigureAwait(false); // KvNode.AuthTokenKey.cs
                await CheckRemovedAsync(token).ConfigureAwait(false); // KvNode.Removal.cs
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogBackgroundError(_logger, "metadata", e.Message);
            }
        }
        while (await WaitTickAsync(timer, token).ConfigureAwait(false) && !token.IsCancellationRequested);
    }

    private static async Task<bool> WaitTickAsync(PeriodicTimer timer, CancellationToken token)
    {
        try
        {
            return await timer.WaitForNextTickAsync(token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }
}
