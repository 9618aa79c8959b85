using Microsoft.Extensions.Logging;
using RaftKv.Replication.Api;
using RaftKv.Replication.Commands;
using RaftKv.Replication.State;
using NotLeaderException = RaftKv.Replication.Api.NotLeaderException;

namespace RaftKv.Replication;

/// <summary>
/// The space quota and the NOSPACE alarm (docs/architecture.md, "Space quota"). Every member watches its
/// own local space: its store past <see cref="KvNodeOptions.QuotaBackendBytes"/>
/// (<see cref="LocalBackendBytes"/>: local bytes only, never what lives in the object store), or a write
/// that failed with ENOSPC (the Raft log or an LSM flush/compaction). Then it raises a NOSPACE alarm
/// for itself through Raft — the leader proposes it, a follower asks the leader
/// (<see cref="IStateHashPeers.RaiseAlarmAsync"/>) — and from the entry that raises it on, every replica
/// refuses writes that add data (<see cref="SpaceRule"/>, decided at apply: <c>KvState.Space.cs</c>) until
/// an operator frees space and disarms it. The leader's admission check refuses them before proposing.
/// </summary>
public sealed partial class KvNode
{
    /// <summary>The feature a member lists when it applies the NOSPACE refusal: a NOSPACE alarm is raised
    /// only when every member lists it (an older release would apply the writes the others refuse).</summary>
    internal const string FeatureNoSpace = "nospace";

    /// <summary>Every feature of this release (<see cref="MetaFeatures"/>).</summary>
    internal const string Features = FeatureCorruptCheck + "," + FeatureNoSpace + "," + FeatureLearners + "," + FeatureTxnPath + "," + FeatureMemberUpdate + "," + FeatureReadIndex + "," + FeatureValueOnce + "," + FeatureValueFiles + "," + FeatureSnapshotPull + "," + FeatureTxnRangeRevision + "," + FeatureClusterUid + "," + FeatureSimpleTokenLog;

    /// <summary>The newest features: metadata of a member without one of them is fetched again (it may have been upgraded).
    /// <see cref="FeatureSnapshotPull"/> stays one (a member that cannot pull does not list it, and keeps being asked, as
    /// before <see cref="FeatureTxnRangeRevision"/>).</summary>
    internal static readonly string[] FeaturesNewest = [FeatureSnapshotPull, FeatureTxnRangeRevision, FeatureClusterUid, FeatureSimpleTokenLog];

    /// <summary>The feature a member lists when it reads tables pointing into value files (table format version 3): a
    /// store separates large values only once every voting member lists it, since a member's checkpoints become other
    /// members' Raft snapshots (<see cref="UpdateValueSeparation"/>).</summary>
    internal const string FeatureValueFiles = "value-files";

    /// <summary>Turns the store's key-value separation on once every voting member reads value files (and off while one
    /// does not, e.g. an older release joined). Called by the metadata loop.</summary>
    private void UpdateValueSeparation() => _store.SeparateValues = _options.ValueFileMinBytes > 0 && EveryMemberSupports(FeatureValueFiles);

    /// <summary>The admission check refreshes the space check when it is older than this.</summary>
    private const long AdmissionCheckMs = 100;

    private volatile string? _spaceProblem;
    private long _lastSpaceCheck;
    private int _spaceRaiseRunning;
    private string? _lastSpaceLog;

    /// <summary>The bytes of this member's store that <see cref="KvNodeOptions.QuotaBackendBytes"/> limits:
    /// local SSTables, what archived tables keep locally (index/bloom tail and keys file) and the memtables.
    /// Not the Raft log or snapshots, and never bytes that live only in the object store.</summary>
    public long LocalBackendBytes
    {
        get
        {
            var s = _store.GetStats();
            return s.DiskBytes + s.ArchivedMetadataBytes + s.MemtableBytes;
        }
    }

    /// <summary>Why this member is out of space as of its last check (quota passed, or ENOSPC), null when it is not.</summary>
    public string? SpaceProblem => _spaceProblem;

    /// <summary>Leader only: raises <paramref name="alarm"/> for <paramref name="memberId"/> through Raft (etcd's
    /// Alarm ACTIVATE); a no-op when it is active already. Only NOSPACE can be raised this way.</summary>
    public async Task RaiseAlarmAsync(AlarmType alarm, long memberId, CancellationToken cancellationToken = default)
    {
        if (alarm != AlarmType.NoSpace)
        {
            throw new ArgumentException($"only NOSPACE can be raised on request (not {alarm})");
        }

        if (memberId <= 0)
        {
            throw new ArgumentException("the member id of an alarm must be positive");
        }

        if (Alarms.Any(a => a.Alarm == alarm && a.MemberId == memberId))
        {
            return;
        }

        if (!IsLeader)
        {
            throw new NotLeaderException(GetStatus().Leader);
        }

        var unsupported = VotersWithout(FeatureNoSpace);
        if (unsupported.Count > 0)
        {
            throw new UnavailableException($"a NOSPACE alarm cannot be raised until every member runs a release that applies it ({unsupported.Count} member(s) without the nospace feature, or their metadata not fetched yet)");
        }

        LogRaisingNoSpace(_logger, memberId);
        await ProposeAsync(new KvCommand(CommandKind.Alarm, NextTimestamp(), null, null, Alarm: new AlarmChange(true, alarm, memberId, _log.LastAppliedIndex)), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The admission check of a command that adds data (<see cref="SpaceRule"/>): throws while a
    /// NOSPACE alarm is active or this leader is out of space itself (then it also raises the alarm).</summary>
    private void AdmitSpace(KvCommand command)
    {
        if (!SpaceRule.AddsData(command))
        {
            return;
        }

        if (_state.Alarms.NoSpace is { } alarm)
        {
            _metrics.Proposals.Add(1, new KeyValuePair<string, object?>("outcome", "no_space"));
            throw new NoSpaceException(KvState.NoSpaceDetail(alarm));
        }

        if (Environment.TickCount64 - Volatile.Read(ref _lastSpaceCheck) >= AdmissionCheckMs)
        {
            CheckSpace(); // at most every AdmissionCheckMs: a fast writer fills a disk between two loop checks
        }

        if (_spaceProblem is { } problem && _log.DiskFull is null)
        {
            // etcd's quota check at admission: raise the alarm and refuse. (A full Raft log answers
            // with its own DiskFullException in ProposeAsync.)
            RaiseOwnAlarmInBackground();
            _metrics.Proposals.Add(1, new KeyValuePair<string, object?>("outcome", "no_space"));
            throw new NoSpaceException(problem);
        }
    }

    /// <summary>Checks this member's space every <see cref="KvNodeOptions.SpaceCheckInterval"/> and raises its
    /// NOSPACE alarm while it is out of space and the alarm is not active.</summary>
    private async Task SpaceLoopAsync()
    {
        var token = _stop.Token;
        using var timer = new PeriodicTimer(_options.SpaceCheckInterval, _options.TimeProvider);
        do
        {
            try
            {
                CheckSpace();
                if (_spaceProblem is not null && !Alarms.Any(a => a.Alarm == AlarmType.NoSpace && a.MemberId == NodeId))
                {
                    await RaiseOwnAlarmAsync(token).ConfigureAwait(false);
                }
            }
            catch (Exception e) when (e is not OperationCanceledException || !token.IsCancellationRequested)
            {
                if (e.Message != _lastSpaceLog)
                {
                    _lastSpaceLog = e.Message; // once per change, not once per check
                    LogBackgroundError(_logger, "space check", e.Message);
                }
            }
        }
        while (await WaitTickAsync(timer, token).ConfigureAwait(false) && !token.IsCancellationRequested);
    }

    /// <summary>Updates <see cref="SpaceProblem"/> from the quota, the Raft log's and the store's ENOSPC state.</summary>
    private void CheckSpace()
    {
        string? problem = null;
        var quota = _options.QuotaBackendBytes;
        if (_log.DiskFull is { } full)
        {
            problem = $"member {NodeId}'s Raft log is out of disk space ({full.Message})";
        }
        else if (_store.OutOfSpace)
        {
            problem = $"member {NodeId}'s store could not write a table: no space left on device";
        }
        else if (quota > 0 && LocalBackendBytes is var used && used > quota)
        {
            problem = $"member {NodeId}'s local store holds {used} bytes, over QUOTA_BACKEND_BYTES {quota}";
        }
        else if (FreeSpace() is { } free && free.Available < free.LowWater)
        {
            problem = $"member {NodeId}'s data directory has {free.Available} bytes free, under the low-water mark of {free.LowWater}";
        }

        Volatile.Write(ref _lastSpaceCheck, Environment.TickCount64);

        var previous = _spaceProblem;
        _spaceProblem = problem;
        if (problem is not null && previous is null)
        {
            LogOutOfSpace(_logger, problem);
        }
        else if (problem is null && previous is not null)
        {
            LogSpaceOk(_logger, previous);
        }
    }

    /// <summary>Free bytes of the data directory's file system and the low-water mark; null when unknown
    /// (not the real file system, or the mark is off).</summary>
    private (long Available, long LowWater)? FreeSpace()
    {
        if (_options.SpaceLowWaterBytes == 0 || Storage.IO.FailStopFileSystem.Unwrap(_options.FileSystem) is not Storage.IO.PhysicalFileSystem)
        {
            return null;
        }

        try
        {
            var drive = new DriveInfo(Path.GetFullPath(_options.DataDir));
            var lowWater = _options.SpaceLowWaterBytes ?? Math.Min((2 * _options.MemtableMaxBytes) + Log.RaftLog.ReserveBytes, drive.TotalSize / 10);
            return (drive.AvailableFreeSpace, lowWater);
        }
        catch (Exception e) when (e is IOException or ArgumentException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private void RaiseOwnAlarmInBackground()
    {
        if (Interlocked.Exchange(ref _spaceRaiseRunning, 1) == 0)
        {
            _ = Task.Run(async () =>
            {
                try
                {
                    await RaiseOwnAlarmAsync(_stop.Token).ConfigureAwait(false);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    LogBackgroundError(_logger, "raising NOSPACE", e.Message); // the space loop tries again
                }
                finally
                {
                    Volatile.Write(ref _spaceRaiseRunning, 0);
                }
            });
        }
    }

    /// <summary>Raises this member's NOSPACE alarm: proposes it as the leader, asks the leader otherwise.</summary>
    private async Task RaiseOwnAlarmAsync(CancellationToken token)
    {
        if (Alarms.Any(a => a.Alarm == AlarmType.NoSpace && a.MemberId == NodeId))
        {
            return;
        }

        if (IsLeader)
        {
            await RaiseAlarmAsync(AlarmType.NoSpace, NodeId, token).ConfigureAwait(false);
        }
        else if (GetStatus().Leader is { } leader && _options.StateHashPeers is { } peers)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(token);
            timeout.CancelAfter(_options.OperationTimeout);
            await peers.RaiseAlarmAsync(leader, AlarmType.NoSpace, NodeId, timeout.Token).ConfigureAwait(false);
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Out of space: {Problem}; raising the NOSPACE alarm (writes that add data are refused until an operator frees space and disarms it; docs/operations.md, \"Space quota\")")]
    private static partial void LogOutOfSpace(ILogger logger, string problem);

    [LoggerMessage(Level = LogLevel.Warning, Message = "No longer out of space (was: {Previous}); a NOSPACE alarm stays until disarmed")]
    private static partial void LogSpaceOk(ILogger logger, string previous);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Raising the NOSPACE alarm for member {MemberId}")]
    private static partial void LogRaisingNoSpace(ILogger logger, long memberId);
}
