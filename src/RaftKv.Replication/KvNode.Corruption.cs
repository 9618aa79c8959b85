using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using RaftKv.Replication.Api;
using RaftKv.Replication.Commands;
using NotLeaderException = RaftKv.Replication.Api.NotLeaderException;

namespace RaftKv.Replication;

/// <summary>
/// The corruption check (docs/architecture.md, "Corruption check"): the leader proposes a hash
/// checkpoint through Raft, every replica hashes its user keyspace as of that entry
/// (<see cref="State.StateHasher"/>), the leader collects the hashes over <see cref="IStateHashPeers"/>,
/// compares them (<see cref="CorruptionJudge"/>) and raises a replicated CORRUPT alarm for each member
/// judged corrupt. Periodic (<see cref="KvNodeOptions.CorruptCheckInterval"/>) and once at start-up
/// (<see cref="KvNodeOptions.InitialCorruptCheck"/>).
/// </summary>
public sealed partial class KvNode
{
    /// <summary>The feature a member lists in <see cref="MetaFeatures"/> when it applies hash checkpoints and alarms.</summary>
    internal const string FeatureCorruptCheck = "corrupt-check";

    /// <summary>Attempts of the start-up check (one a second) before it gives up.</summary>
    private const int InitialCheckAttempts = 120;

    private readonly SemaphoreSlim _checkLock = new(1, 1);
    private readonly ConcurrentDictionary<string, long> _checkOutcomes = new(StringComparer.Ordinal);
    private long _checkFailures;
    private volatile CorruptionCheckResult? _lastCheck;

    public IReadOnlyList<AlarmMember> Alarms => _state.Alarms.Active;

    public CorruptionCheckStatus CorruptionCheck
        => new(_options.CorruptCheckInterval, new Dictionary<string, long>(_checkOutcomes), Interlocked.Read(ref _checkFailures), _lastCheck);

    public async Task<StateHash> GetStateHashAsync(long index, CancellationToken cancellationToken = default)
    {
        // Applying the checkpoint is bounded by the operation timeout (the leader asks once it has
        // committed, so a member more than that behind, or a bogus index, is unanswered); hashing by
        // the longer CorruptCheckTimeout (a full read of the keyspace).
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stop.Token);
        timeout.CancelAfter(_options.OperationTimeout);
        try
        {
            await _log.WaitForAppliedAsync(index, timeout.Token).ConfigureAwait(false);
            var hash = _state.Hashes.Find(index)
                ?? throw new UnavailableException($"member {NodeId} has no state hash at index {index} (not a hash checkpoint here: restarted since, or caught up by a snapshot past it)");
            timeout.CancelAfter(_options.CorruptCheckTimeout);
            return (await hash.WaitAsync(timeout.Token).ConfigureAwait(false)) with { MemberId = NodeId };
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new UnavailableException($"member {NodeId} did not apply and hash index {index} in time (applied index {_log.LastAppliedIndex})");
        }
        catch (Exception e) when (e is not (UnavailableException or OperationCanceledException))
        {
            throw new UnavailableException($"member {NodeId} could not hash its state at index {index}: {e.Message}", inner: e);
        }
    }

    public async Task<CorruptionCheckResult> CheckCorruptionAsync(CancellationToken cancellationToken = default)
    {
        if (!IsLeader)
        {
            throw new NotLeaderException(GetStatus().Leader);
        }

        await _checkLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var result = await RunCheckAsync(cancellationToken).ConfigureAwait(false);
            _checkOutcomes.AddOrUpdate(result.Outcome, 1, (_, n) => n + 1);
            _lastCheck = result;
            return result;
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            Interlocked.Increment(ref _checkFailures);
            throw;
        }
        finally
        {
            _checkLock.Release();
        }
    }

    public async Task DisarmAlarmAsync(AlarmType alarm, long memberId, CancellationToken cancellationToken = default)
    {
        CheckSpace(); // KvNode.Space.cs: still out of space after the disarm = raised again (etcd does the same)
        if (!Alarms.Any(a => a.Alarm == alarm && (memberId == 0 || a.MemberId == memberId)))
        {
            return;
        }

        await ProposeAsync(new KvCommand(CommandKind.Alarm, NextTimestamp(), null, null, Alarm: new AlarmChange(false, alarm, memberId, 0)), cancellationToken).ConfigureAwait(false);
    }

    private async Task<CorruptionCheckResult> RunCheckAsync(CancellationToken cancellationToken)
    {
        var members = _cluster.Members.Select(m => (Member: m, Meta: MetaOf(m))).ToList();
        var unsupported = members.Where(m => !m.Meta.Features.Split(',').Contains(FeatureCorruptCheck, StringComparer.Ordinal)).ToList();
        if (unsupported.Count > 0)
        {
            // Older releases cannot apply a hash checkpoint (they would stop applying): wait until every
            // member runs a release that lists the feature (or its metadata has been fetched).
            var names = string.Join(", ", unsupported.Select(m => m.Meta.Id != 0 ? m.Meta.Id.ToString(System.Globalization.CultureInfo.InvariantCulture) : m.Member.EndPoint.ToString()));
            return new CorruptionCheckResult(0, _options.TimeProvider.GetUtcNow(), CorruptionCheckResult.Skipped, [], [], [], $"members without the corrupt-check feature (older release, or metadata not fetched yet): {names}");
        }

        var proposed = await ProposeAsync(new KvCommand(CommandKind.HashCheck, NextTimestamp(), null, null), cancellationToken).ConfigureAwait(false);
        var index = proposed.Index;
        var infos = Members();
        var asks = infos.Select(m => AskAsync(m, index, cancellationToken)).ToList();
        var answers = await Task.WhenAll(asks).ConfigureAwait(false);
        var hashes = answers.OfType<StateHash>().ToList();
        var unanswered = infos.Where((m, i) => answers[i] is null).Select(m => m.Id).ToList();
        var corrupt = CorruptionJudge.Corrupt(hashes, infos.Count);
        var outcome = corrupt.Count > 0 ? CorruptionCheckResult.Mismatch : unanswered.Count > 0 ? CorruptionCheckResult.Incomplete : CorruptionCheckResult.Ok;
        var detail = string.Join("; ", hashes.Select(h => $"member {h.MemberId}: {h.Hash ?? "corrupt storage: " + h.Corruption} ({h.Keys} keys)"))
            + (unanswered.Count > 0 ? $"; no answer from {string.Join(", ", unanswered)}" : string.Empty);
        var result = new CorruptionCheckResult(index, _options.TimeProvider.GetUtcNow(), outcome, hashes, unanswered, corrupt, detail);
        foreach (var member in corrupt)
        {
            if (Alarms.Any(a => a.Alarm == AlarmType.Corrupt && a.MemberId == member))
            {
                continue; // already raised (and logged) by an earlier check
            }

            LogCorrupt(_logger, member, index, detail);
            await ProposeAsync(new KvCommand(CommandKind.Alarm, NextTimestamp(), null, null, Alarm: new AlarmChange(true, AlarmType.Corrupt, member, index)), cancellationToken).ConfigureAwait(false);
        }

        return result;
    }

    /// <summary>One member's hash at <paramref name="index"/>; null when it gives none (never "corrupt").</summary>
    private async Task<StateHash?> AskAsync(MemberInfo member, long index, CancellationToken cancellationToken)
    {
        try
        {
            if (member.IsLocal)
            {
                return await GetStateHashAsync(index, cancellationToken).ConfigureAwait(false);
            }

            if (_options.StateHashPeers is not { } peers)
            {
                return null;
            }

            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stop.Token);
            timeout.CancelAfter(_options.CorruptCheckTimeout);
            var hash = await peers.GetStateHashAsync(member, index, timeout.Token).ConfigureAwait(false);
            return hash.Index == index ? hash with { MemberId = member.Id } : null;
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            LogNoHash(_logger, member.Id, index, e.Message);
            return null;
        }
    }

    /// <summary>Start-up check (once a leader is known), then a check every interval while leader.</summary>
    private async Task CorruptionCheckLoopAsync()
    {
        var token = _stop.Token;
        if (_options.InitialCorruptCheck)
        {
            await InitialCheckAsync(token).ConfigureAwait(false);
        }

        if (_options.CorruptCheckInterval <= TimeSpan.Zero)
        {
            return;
        }

        using var timer = new PeriodicTimer(_options.CorruptCheckInterval, _options.TimeProvider);
        string? lastError = null; // logged once per change
        while (await WaitTickAsync(timer, token).ConfigureAwait(false) && !token.IsCancellationRequested)
        {
            if (!IsLeader)
            {
                continue;
            }

            try
            {
                await CheckCorruptionAsync(token).ConfigureAwait(false);
                lastError = null;
            }
            catch (Exception e) when (e is not OperationCanceledException || !token.IsCancellationRequested)
            {
                if (e.GetType().Name != lastError)
                {
                    lastError = e.GetType().Name;
                    LogBackgroundError(_logger, "corruption check", e.Message);
                }
            }
        }
    }

    /// <summary>Until one check has an outcome other than "skipped": the leader runs it, a follower asks
    /// the leader. Retried every second (no leader yet, members' metadata not yet fetched, leader
    /// changing) for at most <see cref="InitialCheckAttempts"/> attempts; then the periodic checks take over.</summary>
    private async Task InitialCheckAsync(CancellationToken token)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1), _options.TimeProvider);
        var attempts = 0;
        string? last = null;
        do
        {
            if (++attempts > InitialCheckAttempts)
            {
                LogInitialCheckGaveUp(_logger, attempts - 1, last ?? "no leader");
                return;
            }

            try
            {
                CorruptionCheckResult? result = null;
                if (IsLeader)
                {
                    result = await CheckCorruptionAsync(token).ConfigureAwait(false);
                }
                else if (GetStatus().Leader is { } leader && _options.StateHashPeers is { } peers)
                {
                    result = await peers.RequestCheckAsync(leader, token).ConfigureAwait(false);
                }
                else if (_options.StateHashPeers is null && _cluster.Leader is not null)
                {
                    return; // a follower without a way to reach the leader: the leader's own checks cover it
                }

                if (result is { Outcome: not CorruptionCheckResult.Skipped })
                {
                    LogInitialCheck(_logger, result.Index, result.Outcome);
                    return;
                }

                last = result?.Detail;
            }
            catch (Exception e) when (e is not OperationCanceledException || !token.IsCancellationRequested)
            {
                last = e.Message; // no leader or quorum yet, or the leader changed: try again
            }
        }
        while (await WaitTickAsync(timer, token).ConfigureAwait(false) && !token.IsCancellationRequested);
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "CORRUPT alarm raised for member {MemberId}: its state at hash checkpoint {Index} differs from the other members' or its storage is corrupt ({Detail}); rebuild it from its peers (docs/operations.md)")]
    private static partial void LogCorrupt(ILogger logger, long memberId, long index, string detail);

    [LoggerMessage(Level = LogLevel.Information, Message = "Corruption check: no hash from member {MemberId} at index {Index}: {Error}")]
    private static partial void LogNoHash(ILogger logger, long memberId, long index, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Start-up corruption check did not run after {Attempts} attempts ({Reason}); the periodic checks will")]
    private static partial void LogInitialCheckGaveUp(ILogger logger, int attempts, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Start-up corruption check at index {Index}: {Outcome}")]
    private static partial void LogInitialCheck(ILogger logger, long index, string outcome);
}
