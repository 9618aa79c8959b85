using RaftKv.Replication.Api;
using RaftKv.Replication.Commands;
using RaftKv.Storage;

namespace RaftKv.Replication.State;

/// <remarks>The space quota's part of the state machine (docs/architecture.md, "Space quota"): while the
/// replicated alarm list holds a NOSPACE alarm, entries that add data (<see cref="SpaceRule"/>) are refused
/// at apply — etcd's <c>applierV3Capped</c>. The decision reads only replicated state (the alarm list as of
/// the previous entry) and the command itself, so every replica refuses the same entries; how full a
/// member's disk is never enters the apply.</remarks>
internal sealed partial class KvState
{
    /// <summary>Entries refused at apply because a NOSPACE alarm was active.</summary>
    public long NoSpaceRefusals;

    /// <summary>Null when <paramref name="command"/> may be applied; otherwise applies only the clock at
    /// <paramref name="index"/> and returns the refusal (a <see cref="NoSpaceException"/> for the proposer).</summary>
    private (TxnResult Result, bool Conflict, Exception? Error)? RefuseForNoSpace(long index, KvCommand command, WriteOp clockOp, long revision, long compactRevision)
    {
        if (Alarms.NoSpace is not { } alarm || !SpaceRule.AddsData(command))
        {
            return null;
        }

        ApplyBatch(index, [clockOp], revision, compactRevision);
        Interlocked.Increment(ref NoSpaceRefusals);
        return (new TxnResult(index, false, [], revision), false, new NoSpaceException(NoSpaceDetail(alarm)));
    }

    /// <summary>The operator's line for a refusal under <paramref name="alarm"/>.</summary>
    internal static string NoSpaceDetail(AlarmMember alarm)
        => $"the NOSPACE alarm of member {alarm.MemberId} is active; free space (delete, compact, defragment), then disarm it";
}
