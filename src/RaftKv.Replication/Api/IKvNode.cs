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

    /// <summary>The linearizable read barrier on its own (what a linearizable read waits for before it reads):
    /// when it returns, this replica has applied everything committed before the call began, so a read of its
    /// local state at <see cref="ReadConsistency.Serializable"/> that starts afterwards is linearizable, and so
    /// is a decision taken on its replicated auth state. Throws <see cref="UnavailableException"/> when no quorum
    /// confirms it within the operation timeout, <see cref="LearnerNotSupportedException"/> on a learner.</summary>
    ValueTask ReadBarrierAsync(CancellationToken cancellationToken = default);

    /// <summary>Waits until this replica has applied the Raft entry at <paramref name="index"/> (at once when it has):
    /// a follower that forwarded a write answers only once it has applied what the leader had applied when it
    /// answered, so the write is visible on the member that acknowledged it (as each etcd member applies a proposal
    /// before it answers). Cancellation (the caller's bound) throws <see cref="OperationCanceledException"/>.</summary>
    ValueTask WaitForAppliedAsync(long index, CancellationToken cancellationToken);

    /// <summary>The leader's side of a follower's read index (<see cref="ILeaderReadIndex"/>, internal
    /// <c>Cluster/ReadIndex</c>): this node's commit index, from its valid read lease or after a read-index quorum round,
    /// answered only while it leads in <paramref name="term"/>. Throws <see cref="NotLeaderException"/> when it does not
    /// (another leader, another term, leadership lost during the round), <see cref="UnavailableException"/> when the
    /// round fails. When the index is above <paramref name="followerCommitIndex"/> (the asking follower's), a replication
    /// round starts at once so the follower learns the commit index it must apply now, not at the next heartbeat.</summary>
    Task<LeaderReadIndex> ServeReadIndexAsync(long term, long followerCommitIndex, CancellationToken cancellationToken = default);

    /// <summary>The leader's side of a member's simple token (<c>Cluster/AssignSimpleToken</c>, KvNode.SimpleTokens.cs):
    /// proposes it, answers the entry's index once applied here. <see cref="NotLeaderException"/> on a follower;
    /// <see cref="AuthException"/> (AuthOldRevision) when the user changed since its password was checked.</summary>
    Task<long> ServeSimpleTokenAsync(SimpleTokenGrant grant, CancellationToken cancellationToken);

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

    /// <summary>The auth state (users, roles, enabled flag, auth revision) applied on this replica, lock-free; may
    /// trail the leader (the etcd backend export reads it next to <see cref="Revision"/>).</summary>
    AuthState Auth { get; }

    /// <summary>An etcd range read (every <see cref="RangeRequest"/> option) at the request's revision.
    /// Linearizable reads wait for the read barrier first. Throws <see cref="RevisionCompactedException"/> /
    /// <see cref="FutureRevisionException"/> for a revision outside [CompactRevision, Revision].</summary>
    Task<RangeResult> RangeAsync(RangeRequest request, ReadConsistency consistency, CancellationToken cancellationToken = default);

    /// <summary>
    /// The whole user key space at <paramref name="revision"/> (0 = the current one), streamed in one pass: every
    /// live key at that revision, in key order, once, with its value and metadata (etcd's HashKV reads it, through
    /// <see cref="KeyspaceHash"/>). Linearizable waits for the read barrier first; the revision is then checked
    /// (<see cref="RevisionCompactedException"/> / <see cref="FutureRevisionException"/> outside
    /// [CompactRevision, Revision], <see cref="ArgumentException"/> when negative) and resolved before this returns.
    /// </summary>
    /// <remarks>The keys come from one scan of the MVCC history on this replica: one consistent snapshot of its
    /// store, pinned (not locked) for as long as the enumeration runs, so writes and compaction go on meanwhile
    /// and cannot change what it returns. No lock is held between items. Archived tables are read from the object
    /// store as the scan reaches them; cost is one read of each history record in the key space.</remarks>
    Task<KeyspaceRead> ReadKeyspaceAsync(long revision, ReadConsistency consistency, CancellationToken cancellationToken = default);

    /// <summary>Compacts the history at <paramref name="revision"/> through Raft (etcd Compact: requires
    /// CompactRevision &lt; revision ≤ Revision — 0 while nothing is compacted is a no-op, as in etcd — else <see cref="RevisionCompactedException"/> /
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

    /// <summary>A live subscription to every applied revision (all keys), for watchers grouped behind one
    /// subscription (etcd's watch stream); see <see cref="RevisionFeed"/> for its contract. Dispose it to unsubscribe.</summary>
    RevisionFeed SubscribeRevisions();

    /// <summary>The changes to [key, rangeEnd) with revision in [from, to], from the history: one list per revision
    /// that has any (every event of that revision in the range, in etcd's event order), in revision order; with
    /// <paramref name="prevKv"/> each event carries the key's previous version (none for the events of the compact
    /// revision: that version is below it, see <see cref="ReadKeyAtAsync"/>). Throws
    /// <see cref="RevisionCompactedException"/> when from &lt; CompactRevision.</summary>
    Task<IReadOnlyList<(long Revision, IReadOnlyList<MvccEvent> Events)>> ReadRevisionsAsync(byte[] key, byte[]? rangeEnd, long from, long to, bool prevKv,
        CancellationToken cancellationToken = default);

    /// <summary>The version of one key live at <paramref name="revision"/> (null if it did not exist then, or if
    /// <paramref name="revision"/> is below the compact revision, as etcd leaves out a prev_kv it cannot read), from
    /// the history: a live event's prev_kv is the key at the event's revision - 1.</summary>
    Task<KeyValue?> ReadKeyAtAsync(byte[] key, long revision, CancellationToken cancellationToken = default);

    /// <summary>Grants a lease through Raft (etcd LeaseGrant). <paramref name="id"/> 0: the cluster picks a
    /// unique id. <paramref name="ttlSeconds"/> is raised to the minimum TTL; above
    /// <see cref="LeaseLimits.MaxTtlSeconds"/> throws <see cref="LeaseTtlTooLargeException"/>; an id already
    /// granted throws <see cref="LeaseExistsException"/>. Leader only (<see cref="NotLeaderException"/>).</summary>
    Task<LeaseGrantResult> LeaseGrantAsync(long id, long ttlSeconds, CancellationToken cancellationToken = default);

    /// <summary>Revokes a lease through Raft: every attached key is deleted in one write (one revision,
    /// delete events for watchers). Unknown lease: <see cref="LeaseNotFoundException"/>. Leader only.</summary>
    Task<TxnResult> LeaseRevokeAsync(long id, CancellationToken cancellationToken = default);

    /// <summary>Renews a lease on the leader (not through Raft): it expires its TTL from now. Returns the
    /// TTL in seconds. Unknown or expired lease: <see cref="LeaseNotFoundException"/>; on a follower
    /// <see cref="NotLeaderException"/> (the caller forwards to the leader).</summary>
    Task<long> LeaseKeepAliveAsync(long id, CancellationToken cancellationToken = default);

    /// <summary>A lease's remaining and granted TTL, and its keys when <paramref name="withKeys"/> (etcd
    /// LeaseTimeToLive). Leader only (the remaining TTL is the leader's); unknown lease:
    /// <see cref="LeaseNotFoundException"/>.</summary>
    Task<LeaseTimeToLiveResult> LeaseTimeToLiveAsync(long id, bool withKeys, CancellationToken cancellationToken = default);

    /// <summary>The ids of every granted lease, in id order (etcd LeaseLeases); any node, at the given consistency.</summary>
    Task<IReadOnlyList<long>> LeaseLeasesAsync(ReadConsistency consistency = ReadConsistency.Linearizable, CancellationToken cancellationToken = default);

    /// <summary>Every granted lease with its granted TTL in seconds, in id order (replicated state: any node, at the
    /// given consistency; the remaining TTL is the leader's alone, see <see cref="LeaseTimeToLiveAsync"/>).</summary>
    Task<IReadOnlyList<(long Id, long TtlSeconds)>> LeaseTtlsAsync(ReadConsistency consistency, CancellationToken cancellationToken = default);

    NodeStatus GetStatus();

    /// <summary>True while this node leads (cheap; no member list is built).</summary>
    bool IsLeader { get; }

    /// <summary>The node id of the leader this node knows, or null (<see cref="NodeStatus.LeaderId"/> of
    /// <see cref="GetStatus"/>, cheap: no member list is built).</summary>
    long? LeaderId { get; }

    /// <summary>What every response header carries, without building the member list (hot path).</summary>
    (long Term, long AppliedIndex, string LeaderGrpc) HeaderInfo();

    /// <summary>
    /// A token cancelled at the next leader change this node observes: another member becomes leader (a new
    /// term), this node starts an election (no leader known), or it becomes leader. Each change ends the epoch:
    /// read the token again for the next one. Cheap (no allocation); cancellation callbacks run on the thread
    /// pool. A follower's forwarder uses it to abandon a call sent to a leader that lost leadership
    /// (<c>LeaderRouter.LeaderChange</c>): the read must come before checking that leader is still the one known.
    /// </summary>
    CancellationToken LeaderChangeToken { get; }

    /// <summary>Leader only: adds a member (joins as a non-voter, catches up, then becomes voting).</summary>
    Task AddMemberAsync(MemberInfo member, CancellationToken cancellationToken = default);

    /// <summary>Leader only: adds a voter by its Raft address (etcd MemberAdd without is_learner): one that answers is added
    /// as by <see cref="AddMemberAsync"/>; one that does not answer yet is listed as unstarted (a provisional id, in no
    /// quorum) and added by the leader once it answers (KvNode.PendingVoters.cs). Returns the member as listed.</summary>
    Task<MemberInfo> AddVoterAsync(string raftAddress, CancellationToken cancellationToken = default);

    /// <summary>Leader only: removes a member (a learner leaves the learner list).</summary>
    Task RemoveMemberAsync(long id, CancellationToken cancellationToken = default);

    /// <summary>Leader only: moves voter <paramref name="id"/> to a new Raft address (etcd MemberUpdate; KvNode.MemberUpdate.cs):
    /// its old address leaves the configuration now, and the node restarted at the new address with its data is added back
    /// as the same member. Its own address again: a no-op. <see cref="MemberUpdateRefusedException"/> when it cannot be done safely.</summary>
    Task UpdateMemberAsync(long id, string raftAddress, CancellationToken cancellationToken = default);

    /// <summary>True while this node is an application-level learner (docs/api.md, "Learners").</summary>
    bool IsLearner { get; }

    /// <summary>The replicated random cluster uid (32 lowercase hex digits) that tags this cluster's backups, or null
    /// until the leader has replicated one (docs/architecture.md, "Cluster uid").</summary>
    string? ClusterUid { get; }

    /// <summary>Leader only: adds a learner by its Raft address (etcd MemberAdd with is_learner).</summary>
    Task<MemberInfo> AddLearnerAsync(string raftAddress, CancellationToken cancellationToken = default);

    /// <summary>Leader only: promotes a learner to a voter once it has caught up (etcd MemberPromote).</summary>
    Task PromoteLearnerAsync(long id, CancellationToken cancellationToken = default);

    /// <summary>Leader only: streams the committed log to a learner (internal; raftkv.v1.Cluster/TailLog).</summary>
    IAsyncEnumerable<LearnerTailItem> TailLogAsync(LearnerTailRequest request, CancellationToken cancellationToken = default);

    /// <summary>Local: flushes the memtable (and lets the Raft log be reclaimed up to the durable index).</summary>
    Task FlushAsync(CancellationToken cancellationToken = default);

    /// <summary>Local: runs a full compaction of the store (expiry judged on the replicated logical clock), then
    /// takes a snapshot so the space the old tables and the log held is given back (etcd's defragment).</summary>
    Task CompactAsync(CancellationToken cancellationToken = default);

    /// <summary>Local: the progress of the running full compaction of the store (<see cref="CompactAsync"/> or a
    /// physical etcd compaction), or of the last one; null before any.</summary>
    CompactionProgress? ManualCompaction { get; }

    /// <summary>The local store's statistics (cheap; safe to call often).</summary>
    StoreStats GetStoreStats();

    /// <summary>The highest Raft index whose effects are durable in the local store (see <see cref="IKvStore.DurableIndex"/>).</summary>
    long DurableIndex { get; }

    /// <summary>The cluster's active alarms (etcd's alarm list). Replicated: raised and disarmed through
    /// Raft, so every member lists the same set once it has applied them, and they survive restarts and
    /// snapshots. The one place alarms are read from (HTTP <c>/health</c>, <c>/stats</c>, metrics, and the
    /// etcd Maintenance.Alarm API).</summary>
    IReadOnlyList<AlarmMember> Alarms { get; }

    /// <summary>Leader only: runs one corruption check now (docs/architecture.md, "Corruption check"):
    /// proposes a hash checkpoint, collects every member's <see cref="StateHash"/> at its index, compares
    /// them and raises a CORRUPT alarm for each member judged corrupt. Throws
    /// <see cref="NotLeaderException"/> on a follower, <see cref="UnavailableException"/> without quorum.</summary>
    Task<CorruptionCheckResult> CheckCorruptionAsync(CancellationToken cancellationToken = default);

    /// <summary>This member's hash of its state at the hash checkpoint <paramref name="index"/>: waits
    /// until the entry is applied (bounded by the operation timeout) and the hash computed (bounded by
    /// the corruption check's timeout). Throws
    /// <see cref="UnavailableException"/> when this member has none for that index (not applied in time,
    /// restarted since, caught up by a snapshot past it, or not a hash checkpoint).</summary>
    Task<StateHash> GetStateHashAsync(long index, CancellationToken cancellationToken = default);

    /// <summary>This node's corruption-check counters and last result (cheap).</summary>
    CorruptionCheckStatus CorruptionCheck { get; }

    /// <summary>Leader only: disarms an alarm through Raft (etcd's Alarm DEACTIVATE); a no-op when it is
    /// not active. <paramref name="memberId"/> 0 disarms that alarm type for every member.</summary>
    Task DisarmAlarmAsync(AlarmType alarm, long memberId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Leader only: hands leadership to member <paramref name="targetId"/> (etcd's MoveLeader) and returns
    /// once it leads. The other members stand by meanwhile (<see cref="HoldElectionsAsync"/>), so only the
    /// target can win the election this leader's resignation starts; the target must first have every entry
    /// this leader has. A no-op when this node is the target. Throws <see cref="BadLeaderTransfereeException"/>
    /// for an id that is not a member, <see cref="NotLeaderException"/> on a follower, and
    /// <see cref="UnavailableException"/> when the target does not catch up or win in time (the cluster then
    /// elects a leader as usual once the holds expire).
    /// </summary>
    Task MoveLeaderAsync(long targetId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Local, for a leader's MoveLeader: stand by (start no election, still vote and replicate) for
    /// <paramref name="duration"/>, or end such a hold now when it is <see cref="TimeSpan.Zero"/>. Returns this
    /// member's last Raft log index. A leader refuses (<see cref="UnavailableException"/>).
    /// </summary>
    Task<long> HoldElectionsAsync(TimeSpan duration, CancellationToken cancellationToken = default);

    /// <summary>Leader only: raises a NOSPACE alarm for <paramref name="memberId"/> through Raft (etcd's Alarm
    /// ACTIVATE; members raise their own when out of space, docs/operations.md "Space quota"); a no-op when
    /// it is active. Other alarm types are refused (<see cref="ArgumentException"/>).</summary>
    Task RaiseAlarmAsync(AlarmType alarm, long memberId, CancellationToken cancellationToken = default);

    /// <summary>Why this member is out of space as of its last check (QUOTA_BACKEND_BYTES passed, or a write
    /// failed with ENOSPC), null when it is not.</summary>
    string? SpaceProblem { get; }

    /// <summary>The bytes of this member's store that QUOTA_BACKEND_BYTES limits: local SSTables, what archived
    /// tables keep locally, memtables (never the object store, the Raft log or snapshots).</summary>
    long LocalBackendBytes { get; }
}
