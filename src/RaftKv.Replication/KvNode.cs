using System.Globalization;
using System.Net;
using DotNext.Net.Cluster.Consensus.Raft;
using DotNext.Net.Cluster.Consensus.Raft.StateMachine;
using Microsoft.Extensions.Logging;
using RaftKv.Replication.Api;
using RaftKv.Replication.Diagnostics;
using RaftKv.Replication.Log;
using RaftKv.Replication.State;
using RaftKv.Storage;
using RaftKv.Storage.IO;

namespace RaftKv.Replication;

/// <summary>
/// A replica: DotNext's <see cref="RaftCluster"/> over TCP, a Raft log (<see cref="RaftLog"/> by
/// default, DotNext's <see cref="WriteAheadLog"/> with <c>RAFT_LOG=dotnext</c>) and <see cref="KvState"/>
/// over the LSM store.
/// </summary>
/// <remarks>
/// Layout of <see cref="KvNodeOptions.DataDir"/>: <c>log/</c> (RaftKv's Raft log) or <c>raft/</c>
/// (DotNext's WAL), <c>lsm/</c> (store), <c>snapshots/</c> (checkpoints = Raft snapshots),
/// <c>membership/</c>, <c>member-meta</c> (<see cref="MemberMetaCache"/>). Start-up order matters: open the store, restore the state machine's snapshot,
/// only then open the log (it reads the snapshot index to know where replay starts), then start the
/// cluster. See docs/architecture.md.
/// </remarks>
public sealed partial class KvNode : IKvNode
{
    internal const string MetaNodeId = "raftkv-node-id";
    internal const string MetaGrpc = "raftkv-grpc";
    internal const string MetaHttp = "raftkv-http";

    /// <summary>Comma-separated features this node's release supports, for commands older releases
    /// cannot apply (a leader proposes them only when every member lists them).</summary>
    internal const string MetaFeatures = "raftkv-features";

    private readonly KvNodeOptions _options;
    private readonly ILogger _logger;
    private readonly IKvStore _store;
    private readonly ITieredStore _tiered;
    private readonly KvState _state;
    private readonly IReplicatedLog _log;

    /// <summary>The features this node lists in its Raft metadata (<see cref="FeaturesOf"/>).</summary>
    private readonly string _features;
    private readonly RaftCluster _cluster;
    private readonly CancellationTokenSource _stop = new();
    private readonly Dictionary<EndPoint, (long Id, string Grpc, string Http, string Features)> _memberMeta = [];

    /// <summary>Guards <see cref="_memberMeta"/> and <see cref="_cachedMeta"/>.</summary>
    private readonly Lock _metaLock = new();

    /// <summary>The metadata remembered from earlier runs (<see cref="MemberMetaCache"/>), by Raft endpoint text: a member
    /// that does not answer is still listed under its id. Replaced, never mutated, under <see cref="_metaLock"/>.</summary>
    private Dictionary<string, (long Id, string Grpc, string Http)> _cachedMeta = new(StringComparer.OrdinalIgnoreCase);
    private readonly ReplicationMetrics _metrics;
    private Task _background = Task.CompletedTask;
    private long _lastProposalTs;
    // Environment.TickCount64 at the last applied write (the idle tick waits a TickInterval after one). "Long ago" until
    // the first: TickCount64 counts from the machine's boot, so 0 would read as a write at boot, and a node started
    // within TickInterval of it (a fresh CI machine, a rebooted host with a long TICK_INTERVAL) proposed no tick —
    // not even the term-start one a restarted single member's linearizable reads wait for.
    private long _lastWriteTicks = long.MinValue / 2;
    private int _stopped;

    /// <summary>The data directory's lock (<see cref="IFileSystem.LockDirectory"/>), taken before anything in it is opened
    /// and released last in <see cref="StopAsync"/>.</summary>
    private IDisposable? DirectoryLock { get; init; }

    /// <summary><c>{DATA_DIR}/member-meta</c> (set by <see cref="CreateAsync"/>).</summary>
    private MemberMetaCache? MetaCache
    {
        get;
        init
        {
            field = value;
            _cachedMeta = value?.Load() ?? _cachedMeta;
        }
    }

    /// <summary>DotNext's slow-member warnings, counted (<see cref="SkippedReplicationRounds"/>).</summary>
    private SlowMemberLog? SlowMembers { get; init; }

    private KvNode(KvNodeOptions options, ILoggerFactory loggerFactory, LsmStore store, KvState state, IReplicatedLog log, RaftCluster cluster)
    {
        _options = options;
        _logger = loggerFactory.CreateLogger<KvNode>();
        _store = store;
        _tiered = store;
        _state = state;
        _state.SimpleTokenAssigned = g => SimpleTokenAssigned?.Invoke(g); // KvNode.SimpleTokens.cs
        _log = log;
        _features = FeaturesOf(log, options); // KvNode.SnapshotPull.cs
        if (log is RaftLog raftLog)
        {
            raftLog.SnapshotReferenceReceived = OnSnapshotReferenceAsync; // KvNode.SnapshotPull.cs
        }

        _cluster = cluster;
        _cluster.LeaderChanged += (_, leader) => OnLeaderChanged(leader); // KvNode.LeaderChange.cs
        _metrics = new ReplicationMetrics(this);
        _learner = StartsAsLearner(options);
        _joining = StartsJoining(options, log, store); // KvNode.JoinExisting.cs
        _cluster.MemberAdded += (_, e) => OnMemberAdded(e.Member); // KvNode.JoinExisting.cs
        _state.Learners.Applied = OnLearnerApplied; // KvNode.Learner.cs
        _readIndexBatcher = options.ReadLease && options.LeaderReadIndex is not null ? new ReadIndexBatcher(FetchReadIndexAsync, _stop.Token) : null; // KvNode.FollowerReadIndex.cs
    }

    public long NodeId => _options.NodeId;

    public StoreStats GetStoreStats() => _store.GetStats();

    public CompactionProgress? ManualCompaction => _store.ManualCompaction;

    public long DurableIndex => _store.DurableIndex;

    /// <summary>
    /// The archiving seam of the local store, for the Tiering archiver. It moves whole tables between
    /// tiers and never changes what a key reads, so it cannot write around Raft.
    /// </summary>
    public ITieredStore TieredStore => _tiered;

    /// <summary>The engine itself, for this assembly's tests only (callers outside see <see cref="IKvNode"/>).</summary>
    internal IKvStore Store => _store;

    /// <summary>This node's fail-stop state: the fatal storage error that stopped it, if any.</summary>
    public StorageFailStop FailStop { get; private init; } = new();

    /// <summary>Opens storage, restores the state machine and builds the Raft node (not started yet).</summary>
    public static async Task<KvNode> CreateAsync(KvNodeOptions options, ILoggerFactory loggerFactory, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var dataDir = Path.GetFullPath(options.DataDir);
        var failStop = new StorageFailStop(options.FatalErrorHandler, loggerFactory.CreateLogger<StorageFailStop>());
        var fs = new FailStopFileSystem(options.FileSystem, failStop); // every write and fsync below: fatal errors fail-stop
        fs.CreateDirectory(dataDir);
        var dirLock = fs.LockDirectory(dataDir); // one process per data directory, held until StopAsync (or death)
        KvState? stateRef = null; // set once restored; compactions before that keep all history
        LsmStore store;
        try
        {
            store = await LsmStore.OpenAsync(
                new LsmOptions
                {
                    Directory = Path.Combine(dataDir, "lsm"),
                    MemtableMaxBytes = options.MemtableMaxBytes,
                    MemtableMaxEntries = options.MemtableMaxEntries,
                    BlockCacheBytes = options.BlockCacheBytes,
                    Compression = options.Compression,
                    RemoteCompression = options.RemoteCompression,
                    BlobMinBytes = options.ValueFileMinBytes,
                    ValueFileRules = options.HistoryValueFileMinBytes > 0 ? [new ValueFileRule(MvccLayout.HistoryPrefix, options.HistoryValueFileMinBytes)] : [],
                    RemoteStore = options.RemoteStore,
                    TimeProvider = options.TimeProvider,
                    FileSystem = fs,
                    Logger = loggerFactory.CreateLogger<LsmStore>(),
                    PartitionBoundaries = TablePartitions.Boundaries,
                    CompactionFilterFactory = () => stateRef is { CompactRevision: > 0 } restored ? new HistoryCompactionFilter(restored.CompactRevision) : null,
                },
                cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            dirLock.Dispose();
            throw;
        }

        try
        {
            var state = await KvState.RestoreAsync(store, fs, Path.Combine(dataDir, "snapshots"), loggerFactory.CreateLogger<KvState>(), options.TimeProvider, cancellationToken).ConfigureAwait(false);
            stateRef = state;
            var log = OpenLog(options, fs, dataDir, state, loggerFactory);

            var resolve = TimeSpan.FromSeconds(60);
            var self = EndPoints.Resolve(options.RaftAdvertise, resolve);
            var listen = EndPoints.Resolve(options.RaftListen, resolve);
            var bootstrap = new List<EndPoint> { self };
            foreach (var (id, address) in options.Peers)
            {
                if (id != options.NodeId)
                {
                    bootstrap.Add(EndPoints.Resolve(address, resolve));
                }
            }

            var slowMembers = new SlowMemberLog(options.TimeProvider);
            var storage = new FileMembershipStorage(Path.Combine(dataDir, "membership"));
            await storage.BootstrapAsync(bootstrap, overwrite: options.MembershipFromPeers, cancellationToken).ConfigureAwait(false);
            var config = new RaftCluster.TcpConfiguration(listen)
            {
                PublicEndPoint = self,
                LowerElectionTimeout = (int)options.ElectionTimeoutLower.TotalMilliseconds,
                UpperElectionTimeout = (int)options.ElectionTimeoutUpper.TotalMilliseconds,
                RequestTimeout = options.RequestTimeout,
                ConnectTimeout = options.ConnectTimeout,
                ColdStart = false,
                ConfigurationStorage = storage,
                LoggerFactory = slowMembers.Wrap(loggerFactory), // DotNext's per-round "too far behind" warning becomes a counter and a summary line
                TransmissionBlockSize = 65536,
                SslOptions = options.RaftSsl,
                Standby = StartsAsLearner(options) || StartsJoining(options, log, store), // a learner, or a node joining (KvNode.JoinExisting.cs), never starts an election
            };
            config.Metadata[MetaNodeId] = options.NodeId.ToString(CultureInfo.InvariantCulture);
            config.Metadata[MetaGrpc] = options.GrpcAdvertise;
            config.Metadata[MetaHttp] = options.HttpAdvertise;
            config.Metadata[MetaFeatures] = FeaturesOf(log, options);
            var cluster = new RaftCluster(config)
            {
                AuditTrail = log.AuditTrail,
                FailureDetectorFactory = RoundTrace.Enabled ? static (_, member) => new ReplyTracer(member.EndPoint is IPEndPoint ip ? ip.Port : 0) : null, // diagnostics only: a follower's answers in the trace, by its Raft port
            };
            log.IsLeader = () => !cluster.LeadershipToken.IsCancellationRequested;
            if (log is RaftLog raftLog)
            {
                raftLog.MoreToReplicate = () => ForceReplication(cluster);
            }

            return new KvNode(options, loggerFactory, store, state, log, cluster) { FailStop = failStop, Membership = storage, RaftEndPoint = self, DirectoryLock = dirLock, SlowMembers = slowMembers, MetaCache = new MemberMetaCache(options.FileSystem, Path.Combine(dataDir, "member-meta")) };
        }
        catch
        {
            await store.DisposeAsync().ConfigureAwait(false);
            dirLock.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Opens the Raft log of the configured engine. A data directory keeps the engine it was created
    /// with: the other engine's log would be silently ignored, losing its entries and the node's vote.
    /// </summary>
    /// <summary>Starts another replication round at once (a leader's read stopped at <c>RaftLog.MaxReadBytes</c>): the
    /// heartbeat loop runs the next round right after the current one instead of at the next write or heartbeat. Fire and
    /// forget: the round completes the returned task; losing leadership faults it.</summary>
    private static void ForceReplication(RaftCluster cluster)
    {
        var round = cluster.ForceReplicationAsync(CancellationToken.None);
        if (!round.IsCompletedSuccessfully)
        {
            _ = ObserveAsync(round);
        }

        static async Task ObserveAsync(ValueTask round)
        {
            try
            {
                await round.ConfigureAwait(false);
            }
            catch (Exception e) when (e is DotNext.Net.Cluster.Consensus.Raft.NotLeaderException or OperationCanceledException or ObjectDisposedException)
            {
                // leadership ended: the new leader replicates
            }
        }
    }

    private static IReplicatedLog OpenLog(KvNodeOptions options, IFileSystem fs, string dataDir, KvState state, ILoggerFactory loggerFactory)
    {
        var ours = Path.Combine(dataDir, "log");
        var dotnext = Path.Combine(dataDir, "raft");
        bool HasEntries(string dir) => fs.ListFiles(dir).Count > 0 || fs.ListDirectories(dir).Count > 0;
        static bool HasPhysicalEntries(string dir) => Directory.Exists(dir) && Directory.EnumerateFileSystemEntries(dir).Any(); // DotNext's WAL uses real files
        if (options.LogEngine == RaftLogEngine.RaftKv)
        {
            if (HasPhysicalEntries(dotnext) && !HasEntries(ours))
            {
                throw new InvalidOperationException($"{dataDir} holds a DotNext WAL ({dotnext}); start this node with RAFT_LOG=dotnext, or move its data away and let it rejoin from a snapshot");
            }

            var log = RaftLog.Open(ours, state, loggerFactory.CreateLogger<RaftLog>(), fs, options.PreallocateLogSegments && FailStopFileSystem.Unwrap(fs) is PhysicalFileSystem);
            log.MaxReadBytes = options.MaxAppendBytes;
            log.RetainEntries = options.LogRetainEntries;
            log.RetainBytes = options.LogRetainBytes;
            return log;
        }

        if (HasEntries(ours) && !HasPhysicalEntries(dotnext))
        {
            throw new InvalidOperationException($"{dataDir} holds a RaftKv log ({ours}); start this node with RAFT_LOG=raftkv");
        }

        return new DurableWriteAheadLog(
            new WriteAheadLog.Options
            {
                Location = dotnext,
                MemoryManagement = WriteAheadLog.MemoryManagementStrategy.SharedMemory,

                // DotNext's default chunk is one OS page (4 KiB): a new memory-mapped file every few
                // entries. Larger chunks cut put latency several-fold (see BENCHMARKS.md).
                ChunkSize = options.WalChunkBytes,
                HashAlgorithm = WriteAheadLog.IntegrityHashAlgorithm.Crc32,
            },
            state);
    }

    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        DeleteLeftoverPulls(Path.GetFullPath(_options.DataDir)); // KvNode.SnapshotPull.cs
        await _log.InitializeAsync(cancellationToken).ConfigureAwait(false); // replays committed entries past the snapshot
        _replayed = true;
        WarnIfMovedAway(); // KvNode.MemberUpdate.cs: restarted at the old address
        await BeginTermIfSoleVoterAsync(cancellationToken).ConfigureAwait(false);
        await WaitOutLeasesAsync(cancellationToken).ConfigureAwait(false);
        await _cluster.StartAsync(cancellationToken).ConfigureAwait(false);
        _background = Task.WhenAll(Task.Run(TickLoopAsync, CancellationToken.None), Task.Run(SnapshotLoopAsync, CancellationToken.None), Task.Run(MetadataLoopAsync, CancellationToken.None), Task.Run(CorruptionCheckLoopAsync, CancellationToken.None), Task.Run(LeaseLoopAsync, CancellationToken.None), Task.Run(SpaceLoopAsync, CancellationToken.None), Task.Run(LearnerLoopAsync, CancellationToken.None), Task.Run(JoinLoopAsync, CancellationToken.None), Task.Run(CommitBroadcastLoopAsync, CancellationToken.None));
        LogStarted(_logger, NodeId, _options.RaftAdvertise, _options.Peers.Count);
        if (!_options.RequestTimeoutFitsElection)
        {
            LogRequestTimeoutTooLong(_logger, _options.RequestTimeout.TotalMilliseconds, _options.ConnectTimeout.TotalMilliseconds, _options.ElectionTimeoutLower.TotalMilliseconds);
        }
    }

    /// <summary>How long DotNext's stop may take when the caller's token was spent before it ended.</summary>
    private static readonly TimeSpan StopRetryBound = TimeSpan.FromSeconds(5);

    /// <summary>Stops the node: background work, DotNext, then the log and the store (flushed unless
    /// <paramref name="cancellationToken"/> is cancelled first). Completes even with a cancelled token: the log and the
    /// store are always closed, and nothing acknowledged is lost either way (every acknowledged entry is in the fsynced log).</summary>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _stopped, 1) != 0)
        {
            return;
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        await _background.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        Task pull;
        lock (_pullLock)
        {
            pull = _pullTask;
        }

        await pull.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        // The caller's token (the host's shutdown timeout) may already be spent, e.g. by listeners that drained
        // slowly: the stop still completes, so that the log and the store close cleanly. DotNext's stop gets a bounded
        // second try; the memtable flush is skipped (the log replays those entries at the next start).
        try
        {
            await _cluster.StopAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            using var bound = new CancellationTokenSource(StopRetryBound);
            try
            {
                await _cluster.StopAsync(bound.Token).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                LogStopError(_logger, e);
            }
        }
        catch (Exception e)
        {
            LogStopError(_logger, e);
        }

        await _log.DisposeAsync().ConfigureAwait(false);
        _state.Dispose();
        try
        {
            await _store.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (IOException e)
        {
            LogStopError(_logger, e);
        }
        catch (OperationCanceledException)
        {
            LogStopFlushSkipped(_logger);
        }

        await _store.DisposeAsync().ConfigureAwait(false);
        _cluster.Dispose();
        _metrics.Dispose();
        _checkLock.Dispose();
        _promoteLock.Dispose();
        _learnerAddLock.Dispose();
        _memberUpdateLock.Dispose();
        DirectoryLock?.Dispose(); // last: nothing of this node touches the directory any more
    }

    public async ValueTask DisposeAsync() => await StopAsync().ConfigureAwait(false);

    [LoggerMessage(Level = LogLevel.Information, Message = "Node {NodeId} started; Raft at {Address}, {PeerCount} configured peers")]
    private static partial void LogStarted(ILogger logger, long nodeId, string address, int peerCount);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Raft request timeout {RequestMs} ms plus connect timeout {ConnectMs} ms is not below the election timeout {ElectionMs} ms: a frozen or cut-off member can keep every candidate from winning, leaving the cluster without a leader (KvNodeOptions.RequestTimeout)")]
    private static partial void LogRequestTimeoutTooLong(ILogger logger, double requestMs, double connectMs, double electionMs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Error while stopping")]
    private static partial void LogStopError(ILogger logger, Exception error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Stopping: the shutdown timeout passed before the memtable was flushed; the Raft log replays its entries at the next start")]
    private static partial void LogStopFlushSkipped(ILogger logger);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Background task {Task} failed: {Error}")]
    private static partial void LogBackgroundError(ILogger logger, string task, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "Background task {Task} works again")]
    private static partial void LogBackgroundRecovered(ILogger logger, string task);
}
