using DotNext.Net.Cluster.Consensus.Raft;

namespace RaftKv.Replication.Log;

/// <summary>
/// What <see cref="KvNode"/> needs of its Raft log, whichever engine backs it: <see cref="RaftLog"/>
/// (ours, the default) or <see cref="DurableWriteAheadLog"/> (DotNext's WAL, kept for comparison).
/// </summary>
internal interface IReplicatedLog : IAsyncDisposable
{
    /// <summary>The object handed to DotNext's <c>RaftCluster.AuditTrail</c>.</summary>
    IPersistentState AuditTrail { get; }

    long Term { get; }

    long LastAppliedIndex { get; }

    long LastCommittedIndex { get; }

    long LastIndex { get; }

    /// <summary>Follower commits that had to wait for their entries to become durable.</summary>
    long FollowerFlushWaits { get; }

    /// <summary>Log flushes (one write + fsync each; several entries per flush under load). 0 when the engine does not say.</summary>
    long Flushes { get; }

    /// <summary>True while this node leads; set once the cluster exists, read on every commit.</summary>
    Func<bool> IsLeader { get; set; }

    /// <summary>
    /// Completes once the entry at <paramref name="index"/> (or a snapshot covering it) is applied to
    /// the state machine; fails when the log has failed or is disposed; honours <paramref name="token"/>.
    /// </summary>
    ValueTask WaitForAppliedAsync(long index, CancellationToken token);

    /// <summary>Set while the log is out of disk space (null otherwise): new proposals that add data are
    /// refused with it and the node raises its NOSPACE alarm; the log keeps retrying its writes into the
    /// released reserve, and this clears once the reserve can be recreated (space is back).</summary>
    Storage.IO.DiskFullException? DiskFull { get; }

    /// <summary>Replays committed entries past the snapshot into the state machine.</summary>
    Task InitializeAsync(CancellationToken token);
}
