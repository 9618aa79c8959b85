using RaftKv.Replication.Api;
using EtcdAlarmMember = RaftKv.Protocol.Etcd.AlarmMember;
using EtcdAlarmType = RaftKv.Protocol.Etcd.AlarmType;

namespace RaftKv.Server.Etcd;

/// <summary>
/// The cluster's alarms in etcd's shape, for <c>Maintenance.Alarm</c> and <c>Status.errors</c>: a view of
/// <see cref="IKvNode.Alarms"/>, the replicated alarm list (the one place alarms are read from), so every
/// member answers the same list, as etcd does. Alarm types share etcd's numbers (NOSPACE = 1, CORRUPT = 2).
/// </summary>
public static class EtcdAlarms
{
    /// <summary>The active alarms, filtered as etcd's Alarm GET filters (member 0 / type NONE = any).</summary>
    public static IReadOnlyList<EtcdAlarmMember> Active(IKvNode node, ulong memberId = 0, EtcdAlarmType type = EtcdAlarmType.None)
        => node.Alarms
            .Select(ToEtcd)
            .Where(a => (memberId == 0 || a.MemberID == memberId) && (type == EtcdAlarmType.None || a.Alarm == type))
            .ToList();

    /// <summary>Our alarm type of an etcd one (null for NONE or a type RaftKv does not raise).</summary>
    public static AlarmType? FromEtcd(EtcdAlarmType type) => type switch
    {
        EtcdAlarmType.Nospace => AlarmType.NoSpace,
        EtcdAlarmType.Corrupt => AlarmType.Corrupt,
        _ => null,
    };

    /// <summary>etcd's text of an alarm in <c>Status.errors</c> ("memberID:… alarm:NOSPACE ").</summary>
    public static string Describe(EtcdAlarmMember a) => $"memberID:{a.MemberID} alarm:{Name(a.Alarm)} ";

    /// <summary>etcd's name of an alarm type (its proto enum names; C#'s enum names are Pascal-cased).</summary>
    public static string Name(EtcdAlarmType type) => type switch
    {
        EtcdAlarmType.Nospace => "NOSPACE",
        EtcdAlarmType.Corrupt => "CORRUPT",
        _ => "NONE",
    };

    private static EtcdAlarmMember ToEtcd(AlarmMember a) => new() { MemberID = EtcdIdentity.MemberId(a.MemberId), Alarm = (EtcdAlarmType)(int)a.Alarm };
}
