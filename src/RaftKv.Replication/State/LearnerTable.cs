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

    /// <summary>The learners, by Raft address (provisional ids until they connected), marked <see cref="MemberInfo.IsLearner"/>.</summary>
    public IReadOnlyList<MemberInfo> Members => _members;

    /// <summary>Called on the applier after a change is published (the node reacts to its own promotion).</summary>
    public Action<LearnerChange>? Applied { get; set; }

    public MemberInfo? Find(string raftAddress)
        => _members.FirstOrDefault(m => string.Equals(m.RaftAddress, raftAddress, StringComparison.OrdinalIgnoreCase));

    public void Load(IKvStore store)
    {
        var list = new List<MemberInfo>();
        foreach (var m in store.ScanMetadata(ReservedKeys.LearnerPrefix, KeyRanges.PrefixEnd(ReservedKeys.LearnerPrefix), 0, 0))
        {
            var parts = Encoding.UTF8.GetString(m.Key.Span[ReservedKeys.LearnerPrefix.Length..]).Split('\n');
            if (parts.Length == 4 && long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var id) && store.GetMetadata(m.Key, 0) is not null)
            {
                list.Add(Learner(id, parts[0], parts[2], parts[3]));
            }
        }

        _members = Sorted(list);
    }

    /// <summary>The store writes for <paramref name="change"/> (added to <paramref name="ops"/>) and the resulting list.</summary>
    public IReadOnlyList<MemberInfo> Change(LearnerChange change, List<WriteOp> ops)
    {
        var list = _members.ToList();
        if (Find(change.RaftAddress) is { } old)
        {
            ops.Add(WriteOp.Delete(ReservedKeys.Learner(old)));
            list.Remove(old);
        }

        if (change.Change == LearnerChangeKind.Upsert)
        {
            var learner = Learner(change.Id, change.RaftAddress, change.GrpcAddress, change.HttpAddress);
            ops.Add(WriteOp.Put(ReservedKeys.Learner(learner), new byte[] { 1 }));
            list.Add(learner);
        }

        return Sorted(list);
    }

    public void Publish(IReadOnlyList<MemberInfo> members, LearnerChange change)
    {
        _members = members;
        Applied?.Invoke(change);
    }

    private static MemberInfo Learner(long id, string raft, string grpc, string http) => new(id, raft, grpc, http, false, false, true, IsLearner: true);

    private static List<MemberInfo> Sorted(List<MemberInfo> list) => list.OrderBy(m => m.RaftAddress, StringComparer.Ordinal).ToList();
}
