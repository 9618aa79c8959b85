using System.Globalization;
using System.Text;
using RaftKv.Replication.Api;
using RaftKv.Replication.Commands;
using RaftKv.Storage;

namespace RaftKv.Replication.State;

/// <summary>
/// The application-level learners (docs/architecture.md, "Learners"): replicated state kept in the store under
/// <see cref="ReservedKeys.LearnerPrefix"/> (in every snapshot, survives restarts), mirrored in memory.
/// A learner is not in DotNext's configuration: it does not vote and does not count for any quorum.
/// </summary>
/// <remarks>Written only by the applier (<see cref="Change"/>) and at restore / snapshot install
/// (<see cref="Load"/>); read by anyone (<see cref="Members"/> is an immutable list swapped whole).
/// <see cref="Applied"/> is raised on the applier after each change is published.</remarks>
internal sealed class LearnerTable
{
    private volatile IReadOnlyList<MemberInfo> _members = [];
    private volatile IReadOnlyList<MemberInfo> _moved = [];

    /// <summary>The learners, by Raft address (provisional ids until they connected), marked <see cref="MemberInfo.IsLearner"/>.</summary>
    public IReadOnlyList<MemberInfo> Members => _members;

    /// <summary>Called on the applier after a change is published (the node reacts to its own promotion).</summary>
    public Action<LearnerChange>? Applied { get; set; }

    /// <summary>Voters moved to a new Raft address by etcd <c>MemberUpdate</c> (<see cref="LearnerChangeKind.Moved"/>)
    /// that the leader has not added back at that address yet: listed with their id at the new address (not
    /// <see cref="MemberInfo.IsLearner"/>); in no quorum meanwhile (DotNext's configuration holds neither address).</summary>
    public IReadOnlyList<MemberInfo> Moved => _moved;

    public MemberInfo? Find(string raftAddress)
        => _members.FirstOrDefault(m => SameAddress(m.RaftAddress, raftAddress));

    public MemberInfo? FindMoved(string raftAddress)
        => _moved.FirstOrDefault(m => SameAddress(m.RaftAddress, raftAddress));

    public void Load(IKvStore store)
    {
        var list = new List<MemberInfo>();
        foreach (var (prefix, learner) in new[] { (ReservedKeys.LearnerPrefix, true), (ReservedKeys.MovedPrefix, false) })
        {
            foreach (var m in store.ScanMetadata(prefix, KeyRanges.PrefixEnd(prefix), 0, 0))
            {
                var parts = Encoding.UTF8.GetString(m.Key.Span[prefix.Length..]).Split('\n');
                if (parts.Length == 4 && long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var id) && store.GetMetadata(m.Key, 0) is not null)
                {
                    list.Add(learner ? Learner(id, parts[0], parts[2], parts[3]) : MovedMember(id, parts[0], parts[2], parts[3]));
                }
            }
        }

        Set(Sorted(list));
    }

    /// <summary>The store writes for <paramref name="change"/> (added to <paramref name="ops"/>) and the resulting
    /// records, learners and moved members together (<see cref="Publish"/> splits them).</summary>
    public IReadOnlyList<MemberInfo> Change(LearnerChange change, List<WriteOp> ops)
    {
        var list = _members.Concat(_moved).ToList();
        if (change.Change == LearnerChangeKind.Moved)
        {
            // One record per member: a second update of a member not back yet replaces its address.
            foreach (var old in _moved.Where(m => m.Id == change.Id || SameAddress(m.RaftAddress, change.RaftAddress)))
            {
                ops.Add(WriteOp.Delete(ReservedKeys.Moved(old)));
                list.Remove(old);
            }

            var moved = MovedMember(change.Id, change.RaftAddress, change.GrpcAddress, change.HttpAddress);
            ops.Add(WriteOp.Put(ReservedKeys.Moved(moved), new byte[] { 1 }));
            list.Add(moved);
            return Sorted(list);
        }

        if (Find(change.RaftAddress) is { } learner)
        {
            ops.Add(WriteOp.Delete(ReservedKeys.Learner(learner)));
            list.Remove(learner);
        }

        if (FindMoved(change.RaftAddress) is { } back)
        {
            ops.Add(WriteOp.Delete(ReservedKeys.Moved(back))); // Promoted: it is a voter at its new address; Remove: removed
            list.Remove(back);
        }

        if (change.Change == LearnerChangeKind.Upsert)
        {
            var added = Learner(change.Id, change.RaftAddress, change.GrpcAddress, change.HttpAddress);
            ops.Add(WriteOp.Put(ReservedKeys.Learner(added), new byte[] { 1 }));
            list.Add(added);
        }

        return Sorted(list);
    }

    public void Publish(IReadOnlyList<MemberInfo> records, LearnerChange change)
    {
        Set(records);
        Applied?.Invoke(change);
    }

    private void Set(IReadOnlyList<MemberInfo> records)
    {
        _moved = records.Where(m => !m.IsLearner).ToList();
        _members = records.Where(m => m.IsLearner).ToList();
    }

    private static bool SameAddress(string a, string b) => string.Equals(a, b, StringComparison.OrdinalIgnoreCase);

    private static MemberInfo MovedMember(long id, string raft, string grpc, string http) => new(id, raft, grpc, http, false, false, false);

    private static MemberInfo Learner(long id, string raft, string grpc, string http) => new(id, raft, grpc, http, false, false, true, IsLearner: true);

    private static List<MemberInfo> Sorted(List<MemberInfo> list) => list.OrderBy(m => m.RaftAddress, StringComparer.Ordinal).ToList();
}
