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
}
