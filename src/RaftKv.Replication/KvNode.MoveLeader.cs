using Microsoft.Extensions.Logging;
using RaftKv.Replication.Api;
using NotLeaderException = RaftKv.Replication.Api.NotLeaderException;

namespace RaftKv.Replication;

/// <remarks>
/// <para>Leadership transfer (etcd's MoveLeader; docs/operations.md, "Moving the leader"). DotNext 6.12
/// has no targeted transfer (Raft's TimeoutNow), so it is built from what it has: standby mode (a member
/// that starts no election but still votes and replicates) and resignation. The leader (1) asks every
/// member but the target to stand by for a bounded time (<see cref="HoldElectionsAsync"/> over
/// <see cref="ILeadershipPeers"/>), (2) waits until the target's log holds every entry it has, (3) resigns
/// and stands by itself, so the target is the only member whose election timer can fire, and its log is
/// up to date, so the others vote for it; (4) waits until the target leads, then ends every hold. Safety
/// is Raft's own: a hold only keeps members from campaigning, never changes how they vote, and every hold
/// expires by itself (<see cref="HoldDuration"/>), so a leader that dies mid-transfer leaves a cluster that
/// elects as usual a few seconds later.</para>
/// <para>Concurrency: one transfer at a time per leader (<c>_transferLock</c>). <c>_holdGeneration</c> and
/// <c>_heldByTransfer</c> are guarded by <c>_holdLock</c>; a newer hold supersedes an older one's expiry.</para>
/// </remarks>
public sealed partial class KvNode
{
    private readonly SemaphoreSlim _transferLock = new(1, 1);
    private readonly Lock _holdLock = new();
    private long _holdGeneration;
    private bool _heldByTransfer;
    private volatile bool _handingOff;

    /// <summary>How long a member holds elections for a transfer: the target's election timeout several times over.</summary>
    private TimeSpan HoldDuration => (_options.ElectionTimeoutUpper * 4) + TimeSpan.FromSeconds(1);

    public async Task MoveLeaderAsync(long targetId, CancellationToken cancellationToken = default)
    {
        if (!IsLeader)
        {
            throw new NotLeaderException(GetStatus().Leader);
        }

        var members = await MembersKnowingAsync(targetId, cancellationToken).ConfigureAwait(false);

        var target = members.FirstOrDefault(m => m.Id == targetId && targetId > 0) ?? throw new BadLeaderTransfereeException(targetId);
        if (target.IsLocal)
        {
            return;
        }

        var peers = _options.LeadershipPeers ?? throw new UnavailableException("this node has no channel to the other members for a leadership transfer");
        await _transferLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        var others = members.Where(m => !m.IsLocal && m.Id != targetId).ToList();
        var standing = false;
        try
        {
            var deadline = _options.TimeProvider.GetUtcNow() + HoldDuration;
            LogMovingLeader(_logger, NodeId, targetId);
            await Task.WhenAll(others.Select(m => HoldAsync(peers, m, HoldDuration, cancellationToken))).ConfigureAwait(false);

            // The target must hold every entry this leader has, or the others would not vote for it.
            var last = _log.LastIndex;
            while (await AskTargetAsync(peers, target, cancellationToken).ConfigureAwait(false) < last)
            {
                if (!IsLeader || _options.TimeProvider.GetUtcNow() >= deadline)
                {
                    throw new UnavailableException($"leader transfer took too long: member {targetId} did not catch up with index {last}");
                }

                await Task.Delay(Poll, _options.TimeProvider, cancellationToken).ConfigureAwait(false);
            }

            while (true)
            {
                if (IsLeader)
                {
                    await ((DotNext.Net.Cluster.ICluster)_cluster).ResignAsync(cancellationToken).ConfigureAwait(false);
                }

                if (!standing && !_cluster.Standby)
                {
                    standing = await _cluster.EnableStandbyModeAsync(cancellationToken).ConfigureAwait(false); // only succeeds as a follower
                }

                if (_cluster.Leader is { IsRemote: true } leader && MetaOf(leader).Id == targetId)
                {
                    LogMovedLeader(_logger, NodeId, targetId);
                    return;
                }

                if (_options.TimeProvider.GetUtcNow() >= deadline)
                {
                    throw new UnavailableException($"leader transfer took too long: member {targetId} did not win an election");
                }

                await Task.Delay(Poll, _options.TimeProvider, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            if (standing && !_handingOff)
            {
                await _cluster.RevertToNormalModeAsync(CancellationToken.None).ConfigureAwait(false);
            }

            foreach (var m in others)
            {
                try
                {
                    await peers.HoldElectionsAsync(m, TimeSpan.Zero, CancellationToken.None).ConfigureAwait(false);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    LogHoldReleaseFailed(_logger, m.Id, e.Message); // its hold expires by itself
                }
            }

            _transferLock.Release();
        }
    }

    /// <summary>Holds a non-target member's elections. A member that cannot be asked (down, cut off) is left
    /// as it is: the transfer goes on, and fails by its deadline if that member wins an election meanwhile.</summary>
    private async Task HoldAsync(ILeadershipPeers peers, MemberInfo member, TimeSpan duration, CancellationToken cancellationToken)
    {
        try
        {
            await peers.HoldElectionsAsync(member, duration, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            LogHoldFailed(_logger, member.Id, e.Message);
        }
    }

    /// <summary>The target's last log index; a target that cannot be asked ends the transfer (UNAVAILABLE).</summary>
    private static async Task<long> AskTargetAsync(ILeadershipPeers peers, MemberInfo target, CancellationToken cancellationToken)
    {
        try
        {
            return await peers.HoldElectionsAsync(target, TimeSpan.Zero, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            throw new UnavailableException($"leader transfer failed: member {target.Id} does not answer ({e.Message})", inner: e);
        }
    }

    public async Task<long> HoldElectionsAsync(TimeSpan duration, CancellationToken cancellationToken = default)
    {
        if (duration <= TimeSpan.Zero)
        {
            await EndHoldAsync(generation: null).ConfigureAwait(false);
            return _log.LastIndex;
        }

        if (IsLeader)
        {
            throw new UnavailableException($"member {NodeId} leads: it cannot hold elections for another leader's transfer");
        }

        long generation;
        lock (_holdLock)
        {
            generation = ++_holdGeneration;
        }

        if (!_cluster.Standby && await _cluster.EnableStandbyModeAsync(cancellationToken).ConfigureAwait(false))
        {
            lock (_holdLock)
            {
                _heldByTransfer = true;
            }
        }

        _ = ExpireHoldAsync(generation, duration);
        return _log.LastIndex;
    }

    private async Task ExpireHoldAsync(long generation, TimeSpan duration)
    {
        try
        {
            await Task.Delay(duration, _options.TimeProvider, _stop.Token).ConfigureAwait(false);
            await EndHoldAsync(generation).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // the node is stopping
        }
        catch (ObjectDisposedException)
        {
        }
    }

    /// <summary>Ends the transfer hold (only <paramref name="generation"/>'s, when given) unless the node is shutting down.</summary>
    private async Task EndHoldAsync(long? generation)
    {
        lock (_holdLock)
        {
            if (!_heldByTransfer || (generation is { } g && g != _holdGeneration) || _handingOff)
            {
                return;
            }

            _heldByTransfer = false;
        }

        await _cluster.RevertToNormalModeAsync(CancellationToken.None).ConfigureAwait(false);
    }

    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(20);

    [LoggerMessage(Level = LogLevel.Information, Message = "Node {NodeId} is moving leadership to member {TargetId}")]
    private static partial void LogMovingLeader(ILogger logger, long nodeId, long targetId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Node {NodeId} moved leadership to member {TargetId}")]
    private static partial void LogMovedLeader(ILogger logger, long nodeId, long targetId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not ask member {MemberId} to hold elections for a leadership transfer ({Reason})")]
    private static partial void LogHoldFailed(ILogger logger, long memberId, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not end member {MemberId}'s election hold ({Reason}); it expires by itself")]
    private static partial void LogHoldReleaseFailed(ILogger logger, long memberId, string reason);
}
