namespace RaftKv.Replication.Commands;

/// <summary>What a <see cref="LearnerChange"/> does (one byte in the codec; values are fixed).</summary>
public enum LearnerChangeKind : byte
{
    /// <summary>Adds the learner, or replaces its id and addresses (same Raft address).</summary>
    Upsert = 1,

    /// <summary>Removes the learner (etcd MemberRemove): members stop streaming the log to it.</summary>
    Remove = 2,

    /// <summary>The learner became a voter (DotNext's configuration holds it now): it leaves the list, and
    /// the learner itself leaves its standby mode when it applies this.</summary>
    Promoted = 3,

    /// <summary>A voter moves to a new Raft address (etcd <c>MemberUpdate</c>, KvNode.MemberUpdate.cs): <see cref="LearnerChange.Id"/>
    /// is listed at <see cref="LearnerChange.RaftAddress"/> as a moved member (replacing any moved record of that id)
    /// until the leader has added that address to DotNext's configuration and replicated <see cref="Promoted"/> for it.
    /// <see cref="Remove"/> or <see cref="Promoted"/> of the address ends the record. A release without it ignores it.</summary>
    Moved = 4,
}
