using RaftKv.Storage;

namespace RaftKv.Replication;

/// <summary>Everything a replica needs to start. Built by the server from flags/env/file.</summary>
public sealed record KvNodeOptions
{
    /// <summary>This node's id (NODE_ID), ≥ 1, unique in the cluster.</summary>
    public long NodeId { get; init; } = 1;

    /// <summary>Root data directory (DATA_DIR): <c>log/</c> (RaftKv's Raft log, the default engine) or
    /// <c>raft/</c> (DotNext's WAL, <c>RAFT_LOG=dotnext</c>), <c>lsm/</c> (the store), <c>snapshots/</c>
    /// (checkpoints = Raft snapshots), <c>membership/</c>. See docs/architecture.md.</summary>
    public string DataDir { get; init; } = "./data";

    /// <summary>Address the Raft TCP listener binds to.</summary>
    public string RaftListen { get; init; } = "0.0.0.0:7000";

    /// <summary>Address other members use to reach this node's Raft port (host:port).</summary>
    public string RaftAdvertise { get; init; } = "127.0.0.1:7000";

    /// <summary>Published in member metadata so followers can forward/redirect (host:port).</summary>
    public string GrpcAdvertise { get; init; } = "127.0.0.1:50051";

    /// <summary>Published in member metadata so followers can forward HTTP writes (host:port).</summary>
    public string HttpAdvertise { get; init; } = "127.0.0.1:8080";

    /// <summary>Static bootstrap membership (PEERS = "1=host:7000,2=host:7000,3=host:7000").
    /// Empty or only this node = single-node cluster.</summary>
    public IReadOnlyDictionary<long, string> Peers { get; init; } = new Dictionary<long, string>();

    /// <summary>
    /// False (default): <see cref="Peers"/> bootstraps the membership on the first start only and the
    /// persisted membership wins afterwards. True: membership is rebuilt from <see cref="Peers"/>
    /// (host names re-resolved) at every start — for deployments whose peer IPs change (Kubernetes).
    /// </summary>
    public bool MembershipFromPeers { get; init; }

    /// <summary>Memtable size that triggers a flush (the memtable share of MEMORY_MAX_SIZE_MB).</summary>
    public long MemtableMaxBytes { get; init; } = 64L << 20;

    /// <summary>Block cache capacity, the read cache of hot data (the cache share of MEMORY_MAX_SIZE_MB; 0 = none).</summary>
    public long BlockCacheBytes { get; init; } = 64L << 20;

    /// <summary>Compression of data blocks of local tables (COMPRESSION).</summary>
    public Storage.Tables.BlockCompression Compression { get; init; }

    /// <summary>Compression of data blocks of archived tables (S3_COMPRESSION): a table is re-encoded
    /// with it as it is archived when it differs from <see cref="Compression"/>.</summary>
    public Storage.Tables.BlockCompression RemoteCompression { get; init; }

    /// <summary>Key-value separation (VALUE_FILE_MIN_BYTES): values of at least this many bytes are flushed to value
    /// files once every voting member reads them (<c>LsmOptions.BlobMinBytes</c>); 0 = off.</summary>
    public int ValueFileMinBytes { get; init; } = 4096;

    /// <summary>Key-value separation of MVCC history records (HISTORY_VALUE_FILE_MIN_BYTES): a history record of at
    /// least this many bytes goes to a value file at flush while separation is on (<see cref="ValueFileMinBytes"/>
    /// &gt; 0), so compactions move a pointer through the levels instead of the old value (<c>LsmOptions.ValueFileRules</c>);
    /// 0 = the same threshold as every other record.</summary>
    public int HistoryValueFileMinBytes { get; init; } = DefaultHistoryValueFileMinBytes;

    /// <summary>The default of <see cref="HistoryValueFileMinBytes"/>: a record of this size is about six times its
    /// 20-byte pointer.</summary>
    public const int DefaultHistoryValueFileMinBytes = 128;
    public long MemtableMaxEntries { get; init; } = 1_000_000;
    public int MaxKeyBytes { get; init; } = 4096;
    public int MaxValueBytes { get; init; } = 8 << 20;

    /// <summary>The most ops one branch of a transaction may hold (etcd's <c>--max-txn-ops</c>, default 128);
    /// more is refused with <see cref="Api.TooManyTxnOpsException"/>.</summary>
    public int MaxTxnOps { get; init; } = 128;

    /// <summary>Size of one chunk file of DotNext's WAL (<see cref="RaftLogEngine.DotNext"/> only; fixed when the WAL is created).</summary>
    public int WalChunkBytes { get; init; } = 4 << 20;

    /// <summary>RAFT_LOG=raftkv: start each log segment in a file of zeros written and synced ahead (<c>RaftLogStore.Preallocation.cs</c>),
    /// so a flush's fdatasync writes data only. Applies on a real disk (<see cref="FileSystem"/> a
    /// <see cref="Storage.IO.PhysicalFileSystem"/>); in-memory test file systems never preallocate.</summary>
    public bool PreallocateLogSegments { get; init; } = true;

    /// <summary>RAFT_LOG=raftkv: payload bytes one AppendEntries carries at most (at least one entry); see
    /// <c>RaftLog.MaxReadBytes</c>.</summary>
    public long MaxAppendBytes { get; init; } = Log.RaftLog.DefaultMaxReadBytes;

    /// <summary>RAFT_LOG=raftkv: entries (at most <see cref="LogRetainEntries"/>, holding at most <see cref="LogRetainBytes"/>)
    /// the log keeps below a new snapshot for followers a few rounds behind; see <c>RaftLog.RetainEntries</c>.</summary>
    public int LogRetainEntries { get; init; } = DefaultLogRetainEntries;

    /// <summary>5000, etcd's SnapshotCatchUpEntries.</summary>
    public const int DefaultLogRetainEntries = Log.RaftLog.DefaultRetainEntries;

    /// <summary>See <see cref="LogRetainEntries"/>.</summary>
    public long LogRetainBytes { get; init; } = Log.RaftLog.DefaultRetainBytes;

    /// <summary>RAFT_LOG=raftkv: a follower that needs a snapshot larger than this pulls it from the leader's tail stream
    /// (no request timeout) instead of receiving it in one Raft request, which must end within <see cref="RequestTimeout"/>
    /// (docs/architecture.md, "Snapshots too large for one Raft request"). 0 (default): every snapshot is pulled; negative:
    /// none is (a large store then never reaches a follower that needs it, and a snapshot whose installation outlasts the
    /// request stalls its follower until the leader's next snapshot). Used only while every voting member can pull.</summary>
    public long SnapshotPullAboveBytes { get; init; } = DefaultSnapshotPullAboveBytes;

    /// <summary>0: every snapshot is pulled (see <see cref="SnapshotPullAboveBytes"/>).</summary>
    public const long DefaultSnapshotPullAboveBytes = 0;

    /// <summary>Which Raft log backs the node (see <see cref="RaftLogEngine"/>).</summary>
    public RaftLogEngine LogEngine { get; init; } = RaftLogEngine.RaftKv;

    /// <summary>etcd's default election timeout (<c>--election-timeout=1000</c>).</summary>
    public static readonly TimeSpan DefaultElectionTimeout = TimeSpan.FromSeconds(1);

    /// <summary>A follower that hears no leader for a random time in [<see cref="ElectionTimeoutLower"/>,
    /// <see cref="ElectionTimeoutUpper"/>] becomes a candidate. The lower bound is also DotNext's leader lease
    /// (the chaos harness's <c>SideCheck.LeaderLeaseWindow</c> depends on it).</summary>
    public TimeSpan ElectionTimeoutLower { get; init; } = DefaultElectionTimeout;

    /// <summary>Upper bound of the randomized election timeout (twice the lower one by default).</summary>
    public TimeSpan ElectionTimeoutUpper { get; init; } = DefaultElectionTimeout * 2;

    /// <summary>How long one Raft RPC (vote, append, snapshot) and one connection attempt (half of it) may take
    /// before the peer counts as unavailable for that round. <b>Must stay well below
    /// <see cref="ElectionTimeoutLower"/></b>: DotNext's candidate waits for an answer from every member until its
    /// election timeout ends, and a member that is frozen (SIGSTOP, a stalled VM) or behind a partition that drops
    /// packets never answers — with a request timeout longer than the election timeout no candidate ever counts its
    /// majority and the cluster stays leaderless for as long as that member is stuck (found by hand and in chaos
    /// runs, 2026-12-04). <see cref="KvNode"/> logs a warning when the two are misconfigured.</summary>
    public TimeSpan RequestTimeout { get; init; } = DefaultElectionTimeout / 2;

    /// <summary>READ_LEASE: the leader answers linearizable reads from its commit index, without a quorum round,
    /// for <see cref="ReadLeaseDuration"/> after a confirmed round it started (KvNode.ReadLease.cs has the safety
    /// argument). Off: every linearizable read (batch) runs a read-index round, as etcd's default.</summary>
    public bool ReadLease { get; init; } = true;

    /// <summary>How long a confirmed quorum round lets the leader serve reads: 0.8 × <see cref="ElectionTimeoutLower"/>
    /// (members refuse votes for at least the lower election timeout after hearing from the leader; 20 % margin for
    /// clock-rate drift).</summary>
    public TimeSpan ReadLeaseDuration => ElectionTimeoutLower * 0.8;

    /// <summary>True when a candidate can hear from (or give up on) every member — connection attempt plus request —
    /// before the shortest election timeout ends (see <see cref="RequestTimeout"/>).</summary>
    public bool RequestTimeoutFitsElection => RequestTimeout + ConnectTimeout < ElectionTimeoutLower;

    /// <summary>The Raft connection timeout: half of <see cref="RequestTimeout"/>.</summary>
    public TimeSpan ConnectTimeout => RequestTimeout / 2;

    /// <summary>How long a write or linearizable read waits for a leader/quorum before 503.</summary>
    public TimeSpan OperationTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How long proposals must pause after the last one completed before the leader starts a replication round
    /// to tell followers its commit index (KvNode.CommitBroadcast.cs); short against the heartbeat, long against the gap
    /// between one client's consecutive writes, so a stream of writes gets no extra rounds.</summary>
    public TimeSpan CommitBroadcastDelay { get; init; } = TimeSpan.FromMilliseconds(2);

    /// <summary>The idle leader proposes a Tick this often to advance the logical clock (TTL).</summary>
    public TimeSpan TickInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>QUOTA_BACKEND_BYTES: this member's local store (<see cref="KvNode.LocalBackendBytes"/>) past it raises
    /// the NOSPACE alarm (docs/operations.md, "Space quota"). 0 or less: no quota (ENOSPC still raises it).</summary>
    public long QuotaBackendBytes { get; init; }

    /// <summary>Free bytes on the data directory's file system below which the member counts as out of space
    /// and raises its NOSPACE alarm — before the disk is full, so the alarm, deletes, a snapshot and a
    /// compaction still fit. Null: twice <see cref="MemtableMaxBytes"/> plus the 4 MiB reserve, at most a tenth
    /// of the file system; 0: off (only ENOSPC raises it). Only for the real file system.</summary>
    public long? SpaceLowWaterBytes { get; init; }

    /// <summary>How often a member checks its own space (quota, ENOSPC) and raises its NOSPACE alarm if needed.</summary>
    public TimeSpan SpaceCheckInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>How often the leader runs the corruption check (CORRUPT_CHECK_INTERVAL; docs/operations.md).
    /// <see cref="TimeSpan.Zero"/> turns periodic checks off.</summary>
    public TimeSpan CorruptCheckInterval { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Run one corruption check as soon as the node has a leader after start-up (INITIAL_CORRUPT_CHECK,
    /// like etcd's <c>--experimental-initial-corrupt-check</c>): the leader runs it, a follower asks the leader.</summary>
    public bool InitialCorruptCheck { get; init; } = true;

    /// <summary>How long the check waits for a member's hash (hashing reads the whole user keyspace,
    /// archived values included).</summary>
    public TimeSpan CorruptCheckTimeout { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>How the corruption check reaches other members (the server's gRPC client; null: the
    /// leader compares only its own hash and followers cannot ask for a start-up check).</summary>
    public Api.IStateHashPeers? StateHashPeers { get; init; }

    /// <summary>LEARNER: this node starts as an application-level learner (docs/operations.md, "Learners"): DotNext
    /// in standby, the committed log tailed from the leader through <see cref="LearnerPeers"/>. Ignored once the
    /// node has been promoted (the data directory remembers it).</summary>
    public bool Learner { get; init; }

    /// <summary>INITIAL_CLUSTER_STATE=existing (etcd's <c>--initial-cluster-state=existing</c>): a node whose data directory
    /// has received nothing yet starts in DotNext's standby — it never starts an election — until a leader has replicated
    /// to it (it is then in that leader's configuration), so an empty node, or a majority of wiped ones, started with the
    /// original PEERS cannot found a second cluster (KvNode.JoinExisting.cs). Ignored once the node has a log, and for
    /// learners (which always start in standby).</summary>
    public bool JoinExisting { get; init; }

    /// <summary>MAX_LEARNERS: how many learners the learner list may hold at once (etcd 3.4 allows one: its
    /// <c>ErrTooManyLearners</c>). The leader checks it when it proposes an add (<see cref="KvNode.AddLearnerAsync"/>).</summary>
    public int MaxLearners { get; init; } = 1;

    /// <summary>How a learner reaches the leader's tail stream (the server's gRPC client; null = a learner does not tail).</summary>
    public Api.ILearnerPeers? LearnerPeers { get; init; }

    /// <summary>How MoveLeader reaches the other members (the server's gRPC calls; null = MoveLeader is refused).</summary>
    public Api.ILeadershipPeers? LeadershipPeers { get; init; }

    /// <summary>How a follower asks the leader for a read index (the server's gRPC call; null = a follower's linearizable
    /// reads run DotNext's read barrier). Used only with <see cref="ReadLease"/> (KvNode.FollowerReadIndex.cs).</summary>
    public Api.ILeaderReadIndex? LeaderReadIndex { get; init; }

    /// <summary>How a member that has heard from no leader for a while asks the others whether it is still a member (the
    /// server's gRPC call; null = a member removed while it was down is not told so by the others). KvNode.Removal.cs.</summary>
    public Api.IMembershipPeers? MembershipPeers { get; init; }

    /// <summary>How a follower has the leader assign a simple token (<c>KvNode.SimpleTokens.cs</c>); null: only the
    /// leader can (a follower's assignment waits for its own leadership until the operation timeout).</summary>
    public Api.ISimpleTokenPeers? SimpleTokenPeers { get; init; }

    /// <summary>
    /// TLS of the Raft TCP transport (DotNext's <see cref="DotNext.Net.Security.SslOptions"/>, used for
    /// every connection in both directions); null = plaintext. The server builds it from the peer
    /// certificate files (mutual TLS against the cluster CA, certificates re-read on change).
    /// </summary>
    public DotNext.Net.Security.SslOptions? RaftSsl { get; init; }

    /// <summary>Optional L3 tier for archived tables.</summary>
    public IRemoteTableStore? RemoteStore { get; init; }

    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>
    /// The file system of the store, the snapshots and RaftKv's Raft log (tests pass a crashable one).
    /// DotNext's WAL engine and the membership file always use the real file system.
    /// </summary>
    public Storage.IO.IFileSystem FileSystem { get; init; } = Storage.IO.PhysicalFileSystem.Instance;

    /// <summary>
    /// Told about a fatal storage error (a failed fsync, an I/O error writing data) on any file of
    /// <see cref="FileSystem"/>; the node wraps it in a <see cref="Storage.IO.FailStopFileSystem"/>, so from
    /// then on nothing more is written or acknowledged. The server's handler exits the process (code 74);
    /// null: the fault is only logged and the node stays up, fail-stopped (every write refused).
    /// </summary>
    public Storage.IO.IFatalErrorHandler? FatalErrorHandler { get; init; }

    /// <summary>The shortest lease TTL; shorter grants are raised to it. Null: etcd's rule — 1.5 election
    /// timeouts (<see cref="ElectionTimeoutLower"/>, the value etcd's <c>--election-timeout</c> names), rounded up to whole seconds, and at least 2 s (etcd's
    /// value at its defaults) — so a leader change cannot outlast a lease.</summary>
    public TimeSpan? MinLeaseTtl { get; init; }

    /// <summary>How often the leader looks for expired leases and proposes their revocation.</summary>
    public TimeSpan LeaseCheckInterval { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>At most this many expired leases are revoked per second (etcd's <c>leaseRevokeRate</c>, 1000).</summary>
    public int LeaseRevokesPerSecond { get; init; } = 1000;

    /// <summary>The effective minimum lease TTL in seconds (<see cref="MinLeaseTtl"/>).</summary>
    public long MinLeaseTtlSeconds => MinLeaseTtl is { } t
        ? Math.Max(1, (long)Math.Ceiling(t.TotalSeconds))
        : Math.Max(2, (long)Math.Ceiling(ElectionTimeoutLower.TotalSeconds * 1.5));

    /// <summary>Parses "1=host:7000,2=host:7000". Throws <see cref="FormatException"/> with a clear message.</summary>
    public static IReadOnlyDictionary<long, string> ParsePeers(string? peers)
    {
        var result = new Dictionary<long, string>();
        if (string.IsNullOrWhiteSpace(peers))
        {
            return result;
        }

        foreach (var part in peers.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var eq = part.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0 || !long.TryParse(part.AsSpan(0, eq), out var id) || id <= 0 || part.LastIndexOf(':') <= eq + 1)
            {
                throw new FormatException($"PEERS entry '{part}' is not of the form <id>=<host>:<raft-port>");
            }

            if (!result.TryAdd(id, part[(eq + 1)..]))
            {
                throw new FormatException($"PEERS names node {id} twice");
            }
        }

        return result;
    }
}
