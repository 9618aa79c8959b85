namespace RaftKv.Server.Configuration;

/// <summary>Every setting the server reads. Precedence: flags &gt; environment &gt; config file &gt; defaults.</summary>
public static class ConfigKeys
{
    public static readonly ConfigKey HttpPort = new("HTTP_PORT", "8080", "HTTP API port");
    public static readonly ConfigKey GrpcPort = new("GRPC_PORT", "50051", "gRPC port (HTTP/2; TLS when TLS_CERT_FILE is set)");
    public static readonly ConfigKey EtcdPort = new("ETCD_PORT", "0", "Optional second gRPC port serving the same services, TLS like GRPC_PORT (etcd v3 API included), e.g. 2379 so etcd clients' --endpoints host:2379 need no change (0 = off)");
    public static readonly ConfigKey RaftPort = new("RAFT_PORT", "7000", "Raft TCP port");
    public static readonly ConfigKey NodeId = new("NODE_ID", "1", "This node's id (unique, ≥ 1)");
    public static readonly ConfigKey Peers = new("PEERS", "", "Static membership: 1=host:7000,2=host:7000,3=host:7000 (empty = single node)");
    public static readonly ConfigKey Membership = new("MEMBERSHIP", "persisted", "persisted = PEERS bootstraps the first start, later AddMember/RemoveMember survive restarts; peers = rebuild from PEERS (re-resolving host names) at every start, for deployments whose peer IPs change (Kubernetes)");
    public static readonly ConfigKey DataDir = new("DATA_DIR", "./data", "Data directory (WAL, SSTables, snapshots)");
    public static readonly ConfigKey BindHost = new("BIND_HOST", "0.0.0.0", "Address the listeners bind to");
    public static readonly ConfigKey AdvertiseHost = new("ADVERTISE_HOST", "", "Host other nodes and clients use to reach this node (default: this node's PEERS entry, else 127.0.0.1)");
    public static readonly ConfigKey MemoryMaxSizeMb = new("MEMORY_MAX_SIZE_MB", "128", "Memory tier (MiB): the memtable (its size triggers a flush) plus the block cache, the read cache of hot data (CACHE_SIZE_MB of it)");
    public static readonly ConfigKey CacheSizeMb = new("CACHE_SIZE_MB", "", "Block cache share of MEMORY_MAX_SIZE_MB (MiB; empty = half of it; 0 = no cache, all memtable); must be less than MEMORY_MAX_SIZE_MB");
    public static readonly ConfigKey Compression = new("COMPRESSION", "none", "Block compression of SSTables on local disk: none, lz4 or zstd (tables written from then on)");
    public static readonly ConfigKey S3Compression = new("S3_COMPRESSION", "lz4", "Block compression of SSTables archived to S3: none, lz4 or zstd (when it differs from COMPRESSION a table is re-encoded as it is archived)");
    public static readonly ConfigKey ValueFileMinBytes = new("VALUE_FILE_MIN_BYTES", "4096", "Key-value separation: values of at least this many bytes are flushed to value files and compactions move only pointers to them (once every member runs a release that reads them); 0 = off");
    public static readonly ConfigKey SnapshotPullAboveBytes = new("SNAPSHOT_PULL_ABOVE_BYTES", "0", "A follower that needs a Raft snapshot larger than this (bytes) pulls it from the leader over the internal gRPC stream, without the Raft request timeout (half of ELECTION_TIMEOUT_MS) that bounds one InstallSnapshot; 0 (default) = every snapshot is pulled");
    public static readonly ConfigKey SnapshotCatchupEntries = new("SNAPSHOT_CATCHUP_ENTRIES", "5000", "Raft log entries a member keeps below each new snapshot (at most 64 MiB of them), so a follower a few rounds behind catches up with entries instead of a snapshot (etcd's --snapshot-catchup-entries); 0 = the log is dropped up to each snapshot");
    public static readonly ConfigKey MemoryMaxEntries = new("MEMORY_MAX_ENTRIES", "1000000", "Memtable entry count that triggers a flush");
    public static readonly ConfigKey DiskMaxSizeGb = new("DISK_MAX_SIZE_GB", "0", "Archive tables to S3, deepest LSM level first, while local SSTables exceed this (GiB; 0 = no limit)");
    public static readonly ConfigKey ArchiveInterval = new("ARCHIVE_INTERVAL", "30s", "How often the archiver checks DISK_MIGRATION_AGE_HOURS and deletes orphaned objects; DISK_MAX_SIZE_GB is checked at every table change (a duration: 30s, 5m, or seconds; > 0)");
    public static readonly ConfigKey DiskMigrationAgeHours = new("DISK_MIGRATION_AGE_HOURS", "0", "Archive tables older than this (hours; 0 = never by age)");
    public static readonly ConfigKey QuotaBackendBytes = new("QUOTA_BACKEND_BYTES", "0", "Space quota of a member's local store in bytes (local SSTables, archived tables' local metadata, memtables; never S3): past it the NOSPACE alarm refuses writes that add data. 0 = default (8 GiB, at least twice DISK_MAX_SIZE_GB), negative = no quota");
    public static readonly ConfigKey S3Endpoint = new("S3_ENDPOINT", "", "S3-compatible endpoint (empty = no object store)");
    public static readonly ConfigKey S3Bucket = new("S3_BUCKET", "raftkv", "Bucket for archived SSTables");
    public static readonly ConfigKey S3Prefix = new("S3_PREFIX", "", "Key prefix of this cluster's objects in S3_BUCKET: the archive tier under {S3_PREFIX}nodes/, backups by default under {S3_PREFIX}backups/ (give each cluster sharing a bucket its own; empty = the bucket's root)");
    public static readonly ConfigKey S3Region = new("S3_REGION", "us-east-1", "S3 region");
    public static readonly ConfigKey S3AccessKey = new("S3_ACCESS_KEY", "", "S3 access key");
    public static readonly ConfigKey S3SecretKey = new("S3_SECRET_KEY", "", "S3 secret key");
    public static readonly ConfigKey BackupInterval = new("BACKUP_INTERVAL", "0", "Continuous backups to S3: the leader takes a backup when the newest is older than this (a duration: 1h, 30m, 90s, or seconds; 0 = off). Needs S3_ENDPOINT");
    public static readonly ConfigKey BackupRetention = new("BACKUP_RETENTION", "7", "Backups to keep: a count (7) or an age (72h, 30m, 2d); the newest is always kept");
    public static readonly ConfigKey BackupBucket = new("BACKUP_BUCKET", "", "Bucket for backups (default S3_BUCKET), on the same endpoint and credentials");
    public static readonly ConfigKey BackupPrefix = new("BACKUP_PREFIX", "", "Key prefix of the backups in BACKUP_BUCKET (empty = {S3_PREFIX}backups/; must not overlap the archive tier's {S3_PREFIX}nodes/)");
    public static readonly ConfigKey MaxKeyBytes = new("MAX_KEY_BYTES", "4096", "Largest accepted key (bytes)");
    public static readonly ConfigKey MaxValueBytes = new("MAX_VALUE_BYTES", "8388608", "Largest accepted value (bytes)");
    public static readonly ConfigKey RaftLog = new("RAFT_LOG", "raftkv", "Raft log engine: raftkv (segments, one write + fsync per group) or dotnext (DotNext's memory-mapped WAL); a data directory keeps the engine it was created with");
    public static readonly ConfigKey RaftLogPreallocate = new("RAFT_LOG_PREALLOCATE", "true", "RAFT_LOG=raftkv: true = each Raft log segment starts in a file of 64 MiB zeros written and synced ahead in the background, so a flush's fdatasync writes the data only, not the inode (etcd's WAL preallocates its segments too); false = segments are created empty and grow with each flush. No segment file is preallocated with less than 256 MiB free");
    public static readonly ConfigKey ElectionTimeoutMs = new("ELECTION_TIMEOUT_MS", "1000", "Raft election timeout in milliseconds (etcd's --election-timeout, default 1000): a follower that hears no leader for a random time between this and twice this starts an election; the Raft request timeout is half of it, so a candidate hears back from every reachable member, or gives up on a frozen or cut-off one, before its election ends; a follower waits up to 1.5 x twice this for a leader before forwarding, and bounds a forwarded call without a client deadline by the operation timeout plus twice this (etcd's request timeout). Same value on every member; 100 to 50000");
    public static readonly ConfigKey ReadLease = new("READ_LEASE", "true", "true = the leader answers linearizable reads without a quorum round for 0.8 x ELECTION_TIMEOUT_MS after a round a majority confirmed (leader lease, as TiKV and Consul; safe while members' clocks run at rates within 20 % of each other, and a restarted member waits one election timeout before it votes); false = a read-index quorum round per linearizable read (batch), etcd's default");
    public static readonly ConfigKey CorruptCheckInterval = new("CORRUPT_CHECK_INTERVAL", "300", "Seconds between the leader's corruption checks (state hashes compared across members; 0 = off)");
    public static readonly ConfigKey InitialCorruptCheck = new("INITIAL_CORRUPT_CHECK", "true", "Run one corruption check as soon as the node has a leader after start-up (true/false)");
    public static readonly ConfigKey InitialClusterState = new("INITIAL_CLUSTER_STATE", "new", "new = a node with an empty data directory may elect a leader with its PEERS (first start of a cluster); existing = it joins a running cluster (after etcdctl member add): it never starts an election until a leader has replicated to it, so a wiped node started with the old PEERS cannot found a second cluster (etcd's --initial-cluster-state). Ignored once the data directory holds a log");
    public static readonly ConfigKey Learner = new("LEARNER", "false", "true = start as a learner (docs/operations.md, \"Learners\"): add it first with etcdctl member add --learner; it tails the committed log from the leader of the PEERS members, serves serializable reads, does not vote; ignored once promoted");
    public static readonly ConfigKey MaxLearners = new("MAX_LEARNERS", "1", "Learners the cluster may hold at once (etcd 3.4 allows 1: 'etcdserver: too many learner members in cluster'); checked by the leader at member add");
    public static readonly ConfigKey LearnerToken = new("LEARNER_TOKEN", "", "A secret shared by the cluster's members and its learners (16+ characters): with auth enabled, a learner presents it on its log stream (Cluster/TailLog), which the leader then accepts without a user token (an empty learner holds no credential yet). Compared in constant time, never logged; empty = learners can tail only while auth is off");
    public static readonly ConfigKey TlsCertFile = new("TLS_CERT_FILE", "", "PEM certificate (chain) of the HTTP and gRPC ports; set = HTTPS/TLS on both (empty = plaintext). Re-read when the file changes");
    public static readonly ConfigKey TlsKeyFile = new("TLS_KEY_FILE", "", "PEM private key of TLS_CERT_FILE (PKCS#8, PKCS#1 or SEC1; unencrypted)");
    public static readonly ConfigKey TlsCaFile = new("TLS_CA_FILE", "", "PEM CA bundle: verifies client certificates (CLIENT_CERT_AUTH) and the leader's certificate when a follower forwards a write (empty = the machine's trust store)");
    public static readonly ConfigKey ClientCertAuth = new("CLIENT_CERT_AUTH", "false", "true = the HTTP and gRPC ports require a client certificate signed by TLS_CA_FILE; its CN is the client's user name");
    public static readonly ConfigKey PeerCertFile = new("PEER_CERT_FILE", "", "PEM certificate of the Raft port (mutual TLS between nodes; default TLS_CERT_FILE; both empty = plaintext Raft). Needs serverAuth and clientAuth usage");
    public static readonly ConfigKey PeerKeyFile = new("PEER_KEY_FILE", "", "PEM private key of PEER_CERT_FILE (default TLS_KEY_FILE)");
    public static readonly ConfigKey PeerCaFile = new("PEER_CA_FILE", "", "PEM CA bundle of the cluster: a peer whose certificate it did not sign cannot connect (default TLS_CA_FILE; required with peer TLS)");
    public static readonly ConfigKey AutoCompactionMode = new("AUTO_COMPACTION_MODE", "periodic", "etcd's --auto-compaction-mode: periodic (keep AUTO_COMPACTION_RETENTION of time) or revision (keep that many revisions); the leader compacts MVCC history through Raft");
    public static readonly ConfigKey AutoCompactionRetention = new("AUTO_COMPACTION_RETENTION", "0", "etcd's --auto-compaction-retention: periodic: a duration (1h, 30m, 90s) or hours (1); revision: a count (1000); 0 = off (the default, as in etcd 3.4)");
    public static readonly ConfigKey WatchProgressNotifyInterval = new("WATCH_PROGRESS_NOTIFY_INTERVAL", "10m", "etcd's --experimental-watch-progress-notify-interval: how often an idle etcd watcher created with progress_notify gets an empty response carrying its revision (a duration: 30s, 10m, or seconds: 0.5)");
    public static readonly ConfigKey Cors = new("CORS", "*", "etcd's --cors, for etcd's JSON gateway (/v3/..., /v3beta/...): origins whose browser pages may call it, comma-separated (http://host:port); * = any (etcd's default); none = no CORS headers. OPTIONS on a gateway route answers 200 either way, as etcd's");
    public static readonly ConfigKey AuthToken = new("AUTH_TOKEN", "jwt", "etcd's --auth-token: jwt = tokens signed with the cluster's replicated key, valid on every node; simple = etcd's simple tokens, random strings held by the node that issued them (its TTL refreshed on use)");
    public static readonly ConfigKey AuthTokenTtl = new("AUTH_TOKEN_TTL", "300", "Lifetime of an auth token in seconds (etcd's --auth-token-ttl); a simple token's lifetime since its last use");
    public static readonly ConfigKey AuthMetrics = new("AUTH_METRICS", "open", "With auth enabled: open = /metrics needs no credentials (etcd's default), root = only the root role");
    public static readonly ConfigKey AuthMaxFailures = new("AUTH_MAX_FAILURES", "5", "Failed authentications allowed per user name per minute before refusals (\"too many requests\"); 4x as many per client address");
    public static readonly ConfigKey MetricsHttpRequests = new("METRICS_HTTP_REQUESTS", "off", "on = /metrics also exports ASP.NET Core's and HttpClient's per-request instruments (microsoft_aspnetcore_hosting_http_server_*, Kestrel's queued requests, routing match attempts, memory pool rents, system_net_http_client_request_*); off (default) = not measured at all, they cost CPU on every call. raftkv_operations_total / raftkv_operation_duration_seconds count and time every API call either way");
    public static readonly ConfigKey ConfigFile = new("CONFIG_FILE", "", "Optional JSON or TOML file with any of these keys");

    public static IReadOnlyList<ConfigKey> All { get; } =
    [
        HttpPort, GrpcPort, EtcdPort, RaftPort, NodeId, Peers, Membership, DataDir, BindHost, AdvertiseHost,
        MemoryMaxSizeMb, CacheSizeMb, MemoryMaxEntries, Compression, S3Compression, ValueFileMinBytes, SnapshotPullAboveBytes, SnapshotCatchupEntries, DiskMaxSizeGb, DiskMigrationAgeHours, ArchiveInterval, QuotaBackendBytes,
        S3Endpoint, S3Bucket, S3Prefix, S3Region, S3AccessKey, S3SecretKey, BackupInterval, BackupRetention, BackupBucket, BackupPrefix, MaxKeyBytes, MaxValueBytes, RaftLog, RaftLogPreallocate, ElectionTimeoutMs, ReadLease,
        CorruptCheckInterval, InitialCorruptCheck, InitialClusterState, Learner, MaxLearners, LearnerToken, TlsCertFile, TlsKeyFile, TlsCaFile, ClientCertAuth, PeerCertFile, PeerKeyFile, PeerCaFile,
        AutoCompactionMode, AutoCompactionRetention, WatchProgressNotifyInterval, Cors, AuthToken, AuthTokenTtl, AuthMetrics, AuthMaxFailures, MetricsHttpRequests, ConfigFile,
    ];
}
