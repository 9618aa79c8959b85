using RaftKv.Replication;

namespace RaftKv.Server.Configuration;

/// <summary>The validated server configuration.</summary>
public sealed record ServerConfig
{
    public int HttpPort { get; init; }
    public int GrpcPort { get; init; }

    /// <summary>Second gRPC listener for etcd clients (etcd's 2379); 0 = off.</summary>
    public int EtcdPort { get; init; }
    public int RaftPort { get; init; }
    public long NodeId { get; init; }
    public IReadOnlyDictionary<long, string> Peers { get; init; } = new Dictionary<long, string>();
    public string DataDir { get; init; } = "./data";
    public bool MembershipFromPeers { get; init; }
    public string BindHost { get; init; } = "0.0.0.0";
    public string AdvertiseHost { get; init; } = "127.0.0.1";
    /// <summary>MEMORY_MAX_SIZE_MB in bytes: the memory tier, memtable plus block cache.</summary>
    public long MemoryMaxBytes { get; init; }

    /// <summary>The block cache's share of <see cref="MemoryMaxBytes"/> (CACHE_SIZE_MB; default half).</summary>
    public long CacheBytes { get; init; }

    /// <summary>The memtable's share: the rest of <see cref="MemoryMaxBytes"/> (its size triggers a flush).</summary>
    public long MemtableBytes => MemoryMaxBytes - CacheBytes;

    /// <summary>COMPRESSION: data blocks of local tables.</summary>
    public Storage.Tables.BlockCompression Compression { get; init; }

    /// <summary>S3_COMPRESSION: data blocks of archived tables.</summary>
    public Storage.Tables.BlockCompression S3Compression { get; init; } = Storage.Tables.BlockCompression.Lz4;

    /// <summary>VALUE_FILE_MIN_BYTES: key-value separation threshold (0 = off).</summary>
    public int ValueFileMinBytes { get; init; } = 4096;

    /// <summary>HISTORY_VALUE_FILE_MIN_BYTES: key-value separation threshold of MVCC history records (0 = VALUE_FILE_MIN_BYTES).</summary>
    public int HistoryValueFileMinBytes { get; init; } = KvNodeOptions.DefaultHistoryValueFileMinBytes;

    /// <summary>SNAPSHOT_PULL_ABOVE_BYTES: snapshots larger than this are pulled by the follower (0 = all).</summary>
    public long SnapshotPullAboveBytes { get; init; } = KvNodeOptions.DefaultSnapshotPullAboveBytes;

    /// <summary>SNAPSHOT_CATCHUP_ENTRIES: Raft log entries kept below each snapshot (<see cref="KvNodeOptions.LogRetainEntries"/>).</summary>
    public int SnapshotCatchupEntries { get; init; } = KvNodeOptions.DefaultLogRetainEntries;
    public long MemoryMaxEntries { get; init; }
    public double DiskMaxSizeGb { get; init; }
    public double DiskMigrationAgeHours { get; init; }

    /// <summary>ARCHIVE_INTERVAL: how often the archiver runs a pass (DISK_MAX_SIZE_GB, DISK_MIGRATION_AGE_HOURS).</summary>
    public TimeSpan ArchiveInterval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>QUOTA_BACKEND_BYTES as configured: 0 = the default (<see cref="EffectiveQuotaBytes"/>), negative = no quota.</summary>
    public long QuotaBackendBytes { get; init; }

    /// <summary>The default space quota, 8 GiB: etcd's default is 2 GiB and 8 GiB its suggested maximum,
    /// a limit of its B-tree file; the LSM has no such limit, and with an object store archiving keeps the
    /// local part small (the quota then is the backstop when archiving falls behind).</summary>
    public const long DefaultQuotaBytes = 8L << 30;

    /// <summary>The quota in force (0 = none): the configured value, or the default — at least twice
    /// DISK_MAX_SIZE_GB, so that archiving, not the quota, bounds a tiered member's local disk.</summary>
    public long EffectiveQuotaBytes => QuotaBackendBytes switch
    {
        < 0 => 0,
        0 => Math.Max(DefaultQuotaBytes, (long)(2 * DiskMaxSizeGb * (1L << 30))),
        var q => q,
    };
    public string S3Endpoint { get; init; } = string.Empty;
    public string S3Bucket { get; init; } = "raftkv";

    /// <summary>S3_PREFIX: empty, or a key prefix ending in '/' under which this cluster's objects live.</summary>
    public string S3Prefix { get; init; } = string.Empty;
    public string S3Region { get; init; } = "us-east-1";
    public string S3AccessKey { get; init; } = string.Empty;
    public string S3SecretKey { get; init; } = string.Empty;
    /// <summary>Continuous backups (BACKUP_*); off unless <see cref="BackupSettings.Enabled"/>.</summary>
    public BackupSettings Backup { get; init; } = BackupSettings.Off;
    public int MaxKeyBytes { get; init; }
    public int MaxValueBytes { get; init; }
    public RaftLogEngine RaftLog { get; init; }

    /// <summary>RAFT_LOG_PREALLOCATE (<see cref="KvNodeOptions.PreallocateLogSegments"/>).</summary>
    public bool RaftLogPreallocate { get; init; } = true;
    /// <summary>ELECTION_TIMEOUT_MS: the lower Raft election timeout; the upper one is twice it and the Raft request
    /// timeout half of it (<see cref="KvNodeOptions.RequestTimeout"/> explains why it must stay below it).</summary>
    public TimeSpan ElectionTimeout { get; init; } = KvNodeOptions.DefaultElectionTimeout;

    /// <summary>READ_LEASE (<see cref="KvNodeOptions.ReadLease"/>).</summary>
    public bool ReadLease { get; init; } = true;

    public TimeSpan CorruptCheckInterval { get; init; } = TimeSpan.FromMinutes(5);
    public bool InitialCorruptCheck { get; init; } = true;

    /// <summary>METRICS_HTTP_REQUESTS: also export the platform's per-request instruments (default off).</summary>
    public bool MetricsHttpRequests { get; init; }

    /// <summary>LEARNER: start as an application-level learner (<see cref="KvNodeOptions.Learner"/>).</summary>
    public bool Learner { get; init; }

    /// <summary>INITIAL_CLUSTER_STATE=existing (<see cref="KvNodeOptions.JoinExisting"/>).</summary>
    public bool JoinExisting { get; init; }

    /// <summary>WATCH_PROGRESS_NOTIFY_INTERVAL (etcd's default, 10 minutes).</summary>
    public TimeSpan WatchProgressNotifyInterval { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>CORS: the origins allowed to call etcd's JSON gateway from a browser (<c>*</c> = any, etcd's default;
    /// empty = none: no CORS headers).</summary>
    public IReadOnlyList<string> CorsOrigins { get; init; } = ["*"];

    /// <summary>MAX_LEARNERS (<see cref="KvNodeOptions.MaxLearners"/>, default 1 as etcd 3.4).</summary>
    public int MaxLearners { get; init; } = 1;

    /// <summary>AUTO_COMPACTION_MODE / AUTO_COMPACTION_RETENTION (default off).</summary>
    public AutoCompaction AutoCompaction { get; init; } = AutoCompaction.Off;

    /// <summary>Certificate files of the client ports and the Raft transport (<see cref="TlsFiles.None"/> = plaintext).</summary>
    public TlsFiles Tls { get; init; } = TlsFiles.None;

    /// <summary>Auth settings (AUTH_* keys).</summary>
    public Security.Auth.AuthOptions Auth { get; init; } = Security.Auth.AuthOptions.Default;

    public bool HasObjectStore => S3Endpoint.Length > 0;

    public KvNodeOptions ToNodeOptions() => new()
    {
        NodeId = NodeId,
        DataDir = DataDir,
        RaftListen = $"{BindHost}:{RaftPort}",
        RaftAdvertise = Peers.TryGetValue(NodeId, out var self) ? self : $"{AdvertiseHost}:{RaftPort}",
        GrpcAdvertise = $"{AdvertiseHost}:{GrpcPort}",
        HttpAdvertise = $"{AdvertiseHost}:{HttpPort}",
        Peers = Peers,
        MembershipFromPeers = MembershipFromPeers,
        MemtableMaxBytes = MemtableBytes,
        BlockCacheBytes = CacheBytes,
        Compression = Compression,
        RemoteCompression = S3Compression,
        ValueFileMinBytes = ValueFileMinBytes,
        HistoryValueFileMinBytes = HistoryValueFileMinBytes,
        SnapshotPullAboveBytes = SnapshotPullAboveBytes,
        LogRetainEntries = SnapshotCatchupEntries,
        MemtableMaxEntries = MemoryMaxEntries,
        MaxKeyBytes = MaxKeyBytes,
        MaxValueBytes = MaxValueBytes,
        LogEngine = RaftLog,
        PreallocateLogSegments = RaftLogPreallocate,
        ElectionTimeoutLower = ElectionTimeout,
        ElectionTimeoutUpper = ElectionTimeout * 2,
        RequestTimeout = ElectionTimeout / 2,
        ReadLease = ReadLease,
        CorruptCheckInterval = CorruptCheckInterval,
        InitialCorruptCheck = InitialCorruptCheck,
        Learner = Learner,
        JoinExisting = JoinExisting,
        MaxLearners = MaxLearners,
        QuotaBackendBytes = EffectiveQuotaBytes,
    };
}
