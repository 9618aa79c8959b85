using RaftKv.Protocol.Etcd;

namespace RaftKv.Server.Etcd;

/// <summary>
/// The alarms this member reports through etcd's <c>Alarm</c> and <c>Status.errors</c>. None is raised
/// yet: this is the one place where a NOSPACE alarm (disk full) or a CORRUPT alarm (a checksum or
/// replica-hash mismatch) is to be added — as a source registered here — so that both calls and
/// <c>etcdctl alarm list</c> / <c>endpoint status</c> / <c>endpoint health</c> show it.
/// </summary>
/// <remarks>Alarms are local to the member answering (RaftKv does not replicate them as etcd does);
/// <c>etcdctl alarm list</c> asks one endpoint, so query each member to see all of them.</remarks>
public sealed class EtcdAlarms
{
    private readonly List<Func<IEnumerable<AlarmType>>> _sources = [];

    /// <summary>Adds a source of active alarms for this member (called at start-up).</summary>
    public void AddSource(Func<IEnumerable<AlarmType>> source)
    {
        lock (_sources)
        {
            _sources.Add(source);
        }
    }

    /// <summary>The active alarms of the member <paramref name="memberId"/> (this member).</summary>
    public IReadOnlyList<AlarmMember> Active(ulong memberId)
    {
        Func<IEnumerable<AlarmType>>[] sources;
        lock (_sources)
        {
            sources = [.. _sources];
        }

        return sources.SelectMany(s => s()).Where(a => a != AlarmType.None).Distinct()
            .Select(a => new AlarmMember { MemberID = memberId, Alarm = a }).ToList();
    }

    /// <summary>etcd's text of an alarm in <c>Status.errors</c> ("memberID:… alarm:NOSPACE ").</summary>
    public static string Describe(AlarmMember a) => $"memberID:{a.MemberID} alarm:{a.Alarm} ";
}
