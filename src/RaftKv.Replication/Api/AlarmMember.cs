using System.Globalization;

namespace RaftKv.Replication.Api;

/// <summary>An active alarm: etcd's <c>AlarmMember</c> (member id + alarm type), plus the Raft index of
/// the check that raised it. Alarms are replicated state (every member lists the same set once it has
/// applied the entry that raised them) and stay until disarmed (<see cref="IKvNode.DisarmAlarmAsync"/>).</summary>
/// <param name="MemberId">The member the alarm is about (for CORRUPT: the member whose state differs).</param>
/// <param name="Alarm">The alarm type.</param>
/// <param name="Index">CORRUPT: the Raft index of the hash checkpoint at which the difference was seen; NOSPACE:
/// the leader's applied index when it proposed the alarm (informational).</param>
public sealed record AlarmMember(long MemberId, AlarmType Alarm, long Index)
{
    /// <summary>The alarm in etcd's spelling: <c>CORRUPT</c>, <c>NOSPACE</c>.</summary>
    public string Name => Alarm switch
    {
        AlarmType.Corrupt => "CORRUPT",
        AlarmType.NoSpace => "NOSPACE",
        _ => "NONE",
    };

    /// <summary>One line for operators (logs, <c>/health</c>).</summary>
    public string Reason => Alarm switch
    {
        AlarmType.Corrupt => string.Create(CultureInfo.InvariantCulture, $"member {MemberId}: its state at index {Index} differs from the other members' (or its storage is corrupt); rebuild it from its peers (docs/operations.md)"),
        AlarmType.NoSpace => string.Create(CultureInfo.InvariantCulture, $"member {MemberId} is out of space (QUOTA_BACKEND_BYTES passed, its disk nearly full, or ENOSPC); writes that add data are refused until space is freed and the alarm disarmed (docs/operations.md, \"Space quota\")"),
        _ => string.Create(CultureInfo.InvariantCulture, $"member {MemberId}: {Name}"),
    };
}
