using RaftKv.Storage;

namespace RaftKv.Replication.Api;

/// <summary>
/// What the server layer sees of a replica: writes through Raft, reads at a chosen consistency,
/// cluster status and membership, and local admin. Implemented by <c>KvNode</c>.
/// </summary>
/// <remarks>All members are safe to call concurrently.</remarks>
public interface IKvNode : IAsyncDisposable
{
    long NodeId { get; }

    /// <summary>Starts the Raft node (after the state machine has recovered).</summary>
    Task StartAsync(CancellationToken cancellationToken = default);

    /// <summary>Stops Raft, flushes the store, closes files.</summary>
    Task StopAsync(CancellationToken cancellationToken = default);

    /// <summary>Replicates a write; returns after it is committed on a quorum (fsynced there) and
    /// applied locally. Throws <see cref="NotLeaderException"/> on a follower and
    /// <see cref="UnavailableException"/> when no quorum answers in time. Validation errors
    /// (empty/oversize key or value, bad range) throw <see cref="ArgumentException"/> before anything is proposed.</summary>
    Task<TxnResult> WriteAsync(KvTxn txn, CancellationToken cancellationToken = default);

    /// <summary>Point read. Linearizable reads wait for the read barrier (throw
    /// <see cref="UnavailableException"/> without quorum); works on followers.</summary>
    ValueTask<KvEntry?> GetAsync(ReadOnlyMemory<byte> key, ReadConsistency consistency, CancellationToken cancellationToken = default);

    /// <summary>Live entries in [start, end) (empty end = unbounded), at most limit (0 = unlimited).</summary>
    Task<IReadOnlyList<KvEntry>> RangeAsync(ReadOnlyMemory<byte> start, ReadOnlyMemory<byte> end, int limit, ReadConsistency consistency, CancellationToken cancellationToken = default);

    /// <summary>Changes to keys in [key, rangeEnd) (rangeEnd empty and prefix false = the single key)
    /// with index ≥ startIndex (0 = from now), in commit order, until cancelled. Throws
    /// <see cref="HistoryCompactedException"/> if startIndex is older than the retained history.</summary>
    IAsyncEnumerable<WatchEvent> WatchAsync(byte[] key, byte[]? rangeEnd, bool prefix, long startIndex, CancellationToken cancellationToken = default);

    /// <summary>The store revision applied on this replica (etcd's header revision; 1 for an empty store).</summary>
    long Revision { get; }

    /// <summary>The compact revision applied on this replica (0 = nothing compacted).</summary>
    long CompactRevision { get; }

    /// <summary>An etcd range read (every <see cref="RangeRequest"/> option) at the request's revision.
    /// Linearizable reads wait for the read barrier first. Throws <see cref="RevisionCompactedException"/> /
    /// <see cref="FutureRevisionException"/> for a revision outside [CompactRevision, Revision].</summary>
    Task<RangeResult> RangeAsync(RangeRequest request, ReadConsistency consistency, CancellationToken cancellationToken = default);

    /// <summary>Compacts the history at <paramref name="revision"/> through Raft (etcd Compact: requires
    /// CompactRevision &lt; revision ≤ Revision, else <see cref="RevisionCompactedException"/> /
    /// <see cref="FutureRevisionException"/>). Returns the header revision. <paramref name="physical"/>: also
    /// wait until this node's store dropped the obsolete history.</summary>
    Task<long> CompactRevisionAsync(long revision, bool physical, CancellationToken cancellationToken = default);

    /// <summary>
    /// Changes to [key, rangeEnd) (RangeRequest conventions), one list per revision (every event of that
    /// revision in the range), in revision order, every revision ≥ <paramref name="startRevision"/>
    /// (0 = from the next revision) exactly once: first from the LSM history (catch-up), then live. Works
    /// across restarts and leader changes. Throws <see cref="RevisionCompactedException"/> when
    /// startRevision ≠ 0 and startRevision &lt; CompactRevision, also when compaction overtakes a slow catch-up.
    /// </summary>
    IAsyncEnumerable<IReadOnlyList<MvccEvent>> WatchRevisionsAsync(byte[] key, byte[]? rangeEnd, long startRevision, bool prevKv,
        CancellationToken cancellationToken = default);

    NodeStatus GetStatus();

    /// <summary>True while this node leads (cheap; no member list is built).</summary>
    bool IsLeader { get; }

    /// <summary>What every response header carries, without building the member list (hot path).</summary>
    (long Term, long AppliedIndex, string LeaderGrpc) HeaderInfo();

    /// <summary>Leader only: adds a member (joins as a non-voter, catches up, then becomes voting).</summary>
    Task AddMemberAsync(MemberInfo member, CancellationToken cancellationToken = default);

    /// <summary>Leader only: removes a member.</summary>
    Task RemoveMemberAsync(long id, CancellationToken cancellationToken = default);

    /// <summary>Local: flushes the memtable (and lets the Raft log be reclaimed up to the durable index).</summary>
    Task FlushAsync(CancellationToken cancellationToken = default);

    /// <summary>Local: runs compaction (expiry judged on the replicated logical clock).</summary>
    Task CompactAsync(CancellationToken cancellationToken = default);

    /// <summary>The local store's statistics (cheap; safe to call often).</summary>
    StoreStats GetStoreStats();

    /// <summary>The highest Raft index whose effects are durable in the local store (see <see cref="IKvStore.DurableIndex"/>).</summary>
    long DurableIndex { get; }
}
