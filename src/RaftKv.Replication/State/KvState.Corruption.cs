using Microsoft.Extensions.Logging;
using RaftKv.Replication.Api;
using RaftKv.Replication.Commands;
using RaftKv.Storage;

namespace RaftKv.Replication.State;

/// <remarks>The corruption check's part of the state machine (docs/architecture.md, "Corruption
/// check"): hash checkpoints (<see cref="StateHasher"/>) and the replicated alarm list
/// (<see cref="AlarmTable"/>).</remarks>
internal sealed partial class KvState
{
    /// <summary>This replica's hashes at recent hash checkpoints.</summary>
    public StateHasher Hashes { get; }

    /// <summary>The active alarms (replicated).</summary>
    public AlarmTable Alarms { get; } = new();

    /// <summary>The application-level learners (replicated; <see cref="CommandKind.Learner"/>).</summary>
    public LearnerTable Learners { get; } = new();

    /// <summary>Applies a <see cref="CommandKind.HashCheck"/>, <see cref="CommandKind.Alarm"/>, <see cref="CommandKind.Learner"/>
    /// or <see cref="CommandKind.ClusterUid"/> entry
    /// (after the clock has moved): one store batch at <paramref name="index"/>, then — for a hash
    /// checkpoint — the capture of the state as of <paramref name="index"/>, before the next entry.</summary>
    private TxnResult ApplyMaintenance(long index, KvCommand command, WriteOp clockOp, long clock, long revision, long compactRevision)
    {
        var ops = new List<WriteOp> { clockOp };
        IReadOnlyList<AlarmMember>? alarms = null;
        IReadOnlyList<MemberInfo>? learners = null;
        if (command is { Kind: CommandKind.Alarm, Alarm: { } change })
        {
            alarms = Alarms.Change(change, ops);
        }
        else if (command is { Kind: CommandKind.Learner, Learner: { } learnerChange })
        {
            learners = Learners.Change(learnerChange, ops);
        }

        var uid = command.Kind == CommandKind.ClusterUid ? ClusterUidChange(command, ops) : null; // KvState.ClusterUid.cs

        ApplyBatch(index, ops, revision, compactRevision); // the MVCC revision does not move
        if (alarms is not null)
        {
            Alarms.Publish(alarms);
            LogAlarmsChanged(_logger, index, alarms.Count == 0 ? "none" : string.Join("; ", alarms.Select(a => $"{a.Name} member {a.MemberId}")));
        }

        if (learners is not null)
        {
            Learners.Publish(learners, command.Learner!);
            LogLearnersChanged(_logger, index, command.Learner!.Change, command.Learner.RaftAddress, learners.Count);
        }

        if (uid is not null)
        {
            PublishClusterUid(index, uid);
        }

        if (command.Kind == CommandKind.HashCheck)
        {
            Hashes.Capture(index, clock);
        }

        return new TxnResult(index, true, [], revision);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Learners changed at index {Index}: {Change} {RaftAddress}; {Count} learner(s)")]
    private static partial void LogLearnersChanged(ILogger logger, long index, LearnerChangeKind change, string raftAddress, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Alarms changed at index {Index}; active: {Alarms}")]
    private static partial void LogAlarmsChanged(ILogger logger, long index, string alarms);
}
