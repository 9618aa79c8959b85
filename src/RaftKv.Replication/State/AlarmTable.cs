using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using RaftKv.Replication.Api;
using RaftKv.Replication.Commands;
using RaftKv.Storage;

namespace RaftKv.Replication.State;

/// <summary>
/// The active alarms: replicated state kept in the store under <see cref="ReservedKeys.AlarmPrefix"/>
/// (so they are in every snapshot and survive restarts), mirrored in memory for cheap reads.
/// </summary>
/// <remarks>Written only by the applier (<see cref="Change"/>) and at restore / snapshot install
/// (<see cref="Load"/>); read by anyone (<see cref="Active"/> is an immutable list swapped whole).</remarks>
internal sealed class AlarmTable
{
    private volatile IReadOnlyList<AlarmMember> _active = [];

    public IReadOnlyList<AlarmMember> Active => _active;

    /// <summary>The first active NOSPACE alarm (null: none): while there is one, writes that add data are refused.</summary>
    public AlarmMember? NoSpace => _active.FirstOrDefault(a => a.Alarm == AlarmType.NoSpace);

    /// <summary>Reads the alarm records from <paramref name="store"/> (local metadata only).</summary>
    public void Load(IKvStore store)
    {
        var list = new List<AlarmMember>();
        foreach (var m in store.ScanMetadata(ReservedKeys.AlarmPrefix, KeyRanges.PrefixEnd(ReservedKeys.AlarmPrefix), 0, 0))
        {
            var name = Encoding.UTF8.GetString(m.Key.Span[ReservedKeys.AlarmPrefix.Length..]).Split('/');
            if (name.Length == 2
                && int.TryParse(name[0], NumberStyles.None, CultureInfo.InvariantCulture, out var type)
                && long.TryParse(name[1], NumberStyles.None, CultureInfo.InvariantCulture, out var member)
                && store.GetMetadata(m.Key, 0)?.LocalValue is { Length: 8 } value)
            {
                list.Add(new AlarmMember(member, (AlarmType)type, BinaryPrimitives.ReadInt64LittleEndian(value.Span)));
            }
        }

        _active = Sorted(list);
    }

    /// <summary>The store writes for <paramref name="change"/> (added to <paramref name="ops"/>) and the
    /// resulting set, to publish with <see cref="Publish"/> once the batch is applied.</summary>
    public IReadOnlyList<AlarmMember> Change(AlarmChange change, List<WriteOp> ops)
    {
        var list = _active.ToList();
        if (change.Active)
        {
            if (!list.Any(a => a.Alarm == change.Type && a.MemberId == change.MemberId))
            {
                var value = new byte[8];
                BinaryPrimitives.WriteInt64LittleEndian(value, change.Index);
                ops.Add(WriteOp.Put(ReservedKeys.Alarm(change.Type, change.MemberId), value));
                list.Add(new AlarmMember(change.MemberId, change.Type, change.Index));
            }

            return Sorted(list);
        }

        foreach (var a in list.Where(a => a.Alarm == change.Type && (change.MemberId == 0 || a.MemberId == change.MemberId)).ToList())
        {
            ops.Add(WriteOp.Delete(ReservedKeys.Alarm(a.Alarm, a.MemberId)));
            list.Remove(a);
        }

        return Sorted(list);
    }

    public void Publish(IReadOnlyList<AlarmMember> alarms) => _active = alarms;

    private static List<AlarmMember> Sorted(List<AlarmMember> list) => list.OrderBy(a => a.Alarm).ThenBy(a => a.MemberId).ToList();
}
