using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using RaftKv.Replication.Api;
using RaftKv.Storage;

namespace RaftKv.Replication.Tests;

/// <summary>N in-process replicas on loopback with ephemeral ports and temp data directories.</summary>
internal sealed class TestCluster : IAsyncDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "raftkv-repl-" + Guid.NewGuid().ToString("N"));
    private readonly Dictionary<long, string> _peers = [];
    private readonly Dictionary<long, string> _learners = [];
    private readonly ILoggerFactory _loggers = NullLoggerFactory.Instance;

    private TestCluster()
    {
    }

    public Dictionary<long, KvNode?> Nodes { get; } = [];

    /// <summary>The Raft log engine nodes start with (unless <see cref="StartNodeAsync"/> is told otherwise).</summary>
    public RaftLogEngine Engine { get; private init; }

    /// <summary>Each node's object store (null: none), asked again at every start of the node.</summary>
    public Func<long, IRemoteTableStore?>? RemoteStores { get; private init; }

    /// <summary>The lower election timeout (the upper one is twice it). Tests that must not see a
    /// leader change while they run on a loaded machine (a 2-core CI box running other test
    /// collections at the same time) ask for a longer one than the 300 ms default.</summary>
    public TimeSpan ElectionTimeout { get; private init; } = TimeSpan.FromMilliseconds(300);

    /// <summary>Each node's QUOTA_BACKEND_BYTES (null: no quota).</summary>
    public long? QuotaBytes { get; private init; }

    /// <summary>Whether nodes run the start-up corruption check (on by default, as in production). It
    /// reads every value, archived ones from the object store, so a test that needs archived values to
    /// stay uncached turns it off.</summary>
    public bool InitialCorruptCheck { get; private init; } = true;

    /// <summary>Each node's READ_LEASE (on by default, as in production).</summary>
    public bool ReadLease { get; private init; } = true;

    /// <summary>Each node's <see cref="KvNodeOptions.LogRetainEntries"/>. 0 by default (the log is dropped up to each
    /// snapshot), so a node that missed entries catches up by a snapshot, the path most of these tests exercise.</summary>
    public int LogRetainEntries { get; private init; }

    /// <summary>Each node's <see cref="KvNodeOptions.SnapshotPullAboveBytes"/> (production's default, 0: every snapshot is
    /// pulled; negative: every one goes in one Raft request).</summary>
    public long SnapshotPullAboveBytes { get; private init; } = KvNodeOptions.DefaultSnapshotPullAboveBytes;

    public static async Task<TestCluster> StartAsync(int size, RaftLogEngine engine = RaftLogEngine.RaftKv, Func<long, IRemoteTableStore?>? remoteStores = null, TimeSpan? electionTimeout = null, long? quotaBytes = null, bool initialCorruptCheck = true, bool readLease = true, int logRetainEntries = 0, long snapshotPullAboveBytes = KvNodeOptions.DefaultSnapshotPullAboveBytes)
    {
        var c = new TestCluster { Engine = engine, RemoteStores = remoteStores, ElectionTimeout = electionTimeout ?? TimeSpan.FromMilliseconds(300), QuotaBytes = quotaBytes, InitialCorruptCheck = initialCorruptCheck, ReadLease = readLease, LogRetainEntries = logRetainEntries, SnapshotPullAboveBytes = snapshotPullAboveBytes };
        for (var id = 1L; id <= size; id++)
        {
            c._peers[id] = $"127.0.0.1:{FreePort()}";
        }

        foreach (var id in c._peers.Keys)
        {
            await c.StartNodeAsync(id);
        }

        return c;
    }

    /// <summary>Reserves a Raft address for a learner <paramref name="id"/> (not in the voters' PEERS) and returns it.</summary>
    public string ReserveLearner(long id) => _learners[id] = $"127.0.0.1:{FreePort()}";

    /// <summary>Starts learner <paramref name="id"/> (see <see cref="ReserveLearner"/>): PEERS = the voters and itself, LEARNER on.</summary>
    public Task StartLearnerAsync(long id) => StartNodeAsync(id, learner: true);

    public async Task StartNodeAsync(long id, RaftLogEngine? engine = null, bool learner = false, bool joinExisting = false)
    {
        var peers = _learners.TryGetValue(id, out var own) ? new Dictionary<long, string>(_peers) { [id] = own } : _peers;
        var node = await KvNode.CreateAsync(
            new KvNodeOptions
            {
                NodeId = id,
                DataDir = Path.Combine(_root, $"n{id}"),
                RaftListen = peers[id],
                RaftAdvertise = peers[id],
                GrpcAdvertise = $"127.0.0.1:{50000 + id}",
                HttpAdvertise = $"127.0.0.1:{8000 + id}",
                Peers = peers,
                Learner = learner,
                JoinExisting = joinExisting,
                LearnerPeers = new InProcessStateHashPeers(this),
                MemtableMaxBytes = 256 << 10,
                OperationTimeout = TimeSpan.FromSeconds(3),
                TickInterval = TimeSpan.FromMilliseconds(200),
                ElectionTimeoutLower = ElectionTimeout,
                ElectionTimeoutUpper = ElectionTimeout * 2,
                RequestTimeout = ElectionTimeout / 2, // below the election timeout, as KvNodeOptions.RequestTimeout requires
                ReadLease = ReadLease,
                LogEngine = engine ?? Engine,
                RemoteStore = RemoteStores?.Invoke(id),
                StateHashPeers = new InProcessStateHashPeers(this),
                LeadershipPeers = new InProcessStateHashPeers(this),
                LeaderReadIndex = new InProcessStateHashPeers(this),
                MembershipPeers = new InProcessStateHashPeers(this),
                SimpleTokenPeers = new InProcessStateHashPeers(this),
                CorruptCheckInterval = TimeSpan.Zero, // tests run checks explicitly; the start-up check follows InitialCorruptCheck
                InitialCorruptCheck = InitialCorruptCheck,
                QuotaBackendBytes = QuotaBytes ?? 0,
                SpaceCheckInterval = TimeSpan.FromMilliseconds(200),
                LogRetainEntries = LogRetainEntries,
                SnapshotPullAboveBytes = SnapshotPullAboveBytes,
            },
            _loggers);
        await node.StartAsync();
        Nodes[id] = node;
    }

    public async Task StopNodeAsync(long id, CancellationToken token = default)
    {
        if (Nodes[id] is { } n)
        {
            Nodes[id] = null;
            await n.StopAsync(token);
        }
    }

    /// <summary>The data directory (<c>DATA_DIR</c>) of node <paramref name="id"/>.</summary>
    public string DataDir(long id) => Path.Combine(_root, $"n{id}");

    /// <summary>The Raft address of node <paramref name="id"/>.</summary>
    public string RaftAddress(long id) => _learners.GetValueOrDefault(id) ?? _peers[id];

    /// <summary>Deletes a stopped node's data directory (a replacement machine with an empty disk).</summary>
    public void WipeNode(long id)
    {
        if (Nodes[id] is not null)
        {
            throw new InvalidOperationException($"node {id} is running");
        }

        Directory.Delete(Path.Combine(_root, $"n{id}"), recursive: true);
    }

    public IEnumerable<KvNode> Running => Nodes.Values.OfType<KvNode>();

    public async Task<KvNode> WaitForLeaderAsync(TimeSpan? timeout = null)
    {
        KvNode? leader = null;
        await Eventually.TrueAsync(() => (leader = Running.FirstOrDefault(n => n.IsLeader)) is not null, timeout ?? TimeSpan.FromSeconds(30), "a leader is elected");
        return leader!;
    }

    /// <summary>Writes through whichever node is leader, retrying with the same request id across leader changes.</summary>
    public Task<TxnResult> WriteAsync(KvTxn txn, TimeSpan? timeout = null) => OnLeaderAsync(leader => leader.WriteAsync(txn), timeout);

    /// <summary>
    /// Runs <paramref name="call"/> on whichever node is leader, again on the next leader when it answers
    /// "not the leader" or "unavailable" (the leader found a moment ago may have stepped down since).
    /// </summary>
    public async Task<T> OnLeaderAsync<T>(Func<KvNode, Task<T>> call, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (true)
        {
            var leader = Running.FirstOrDefault(n => n.IsLeader);
            try
            {
                if (leader is not null)
                {
                    return await call(leader);
                }
            }
            catch (Exception e) when (e is NotLeaderException or UnavailableException && DateTime.UtcNow < deadline)
            {
            }

            if (DateTime.UtcNow >= deadline)
            {
                throw new TimeoutException("no leader accepted the call");
            }

            await Task.Delay(Poll.Interval);
        }
    }

    /// <summary>
    /// Adds <paramref name="member"/> through whichever node leads, again on the next leader or after a catch-up that
    /// did not finish in time (both routine on a loaded machine, and what an operator's retry does); done once the
    /// leader lists the member's Raft address, even when the attempt that added it reported a failure.
    /// </summary>
    public Task AddMemberAsync(MemberInfo member, TimeSpan? timeout = null) => OnLeaderAsync(
        async leader =>
        {
            if (leader.GetStatus().Members.Any(m => m.RaftAddress == member.RaftAddress))
            {
                return true;
            }

            try
            {
                await leader.AddMemberAsync(member);
            }
            catch (DotNext.Net.Cluster.Consensus.Raft.NotLeaderException e)
            {
                throw new UnavailableException("leadership moved during the configuration change", inner: e);
            }

            return true;
        },
        timeout ?? TimeSpan.FromSeconds(90));

    public Task<TxnResult> PutAsync(string key, string value, string? requestId = null)
        => WriteAsync(KvTxn.Single(KvOp.Put(Encoding.UTF8.GetBytes(key), Encoding.UTF8.GetBytes(value)), requestId));

    /// <summary>Hash of a node's full visible state (serializable scan).</summary>
    public static async Task<string> StateHashAsync(KvNode node)
    {
        var all = await node.RangeAsync(Array.Empty<byte>(), Array.Empty<byte>(), 0, ReadConsistency.Serializable);
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var e in all)
        {
            sha.AppendData(e.Key.Span);
            sha.AppendData([0]);
            sha.AppendData(e.Value.Span);
            sha.AppendData(BitConverter.GetBytes(e.Version));
        }

        return Convert.ToHexString(sha.GetHashAndReset());
    }

    /// <summary>Waits until every running node has applied at least the highest index any of them had
    /// applied at the call, then until their state hashes agree (the leader keeps proposing clock ticks,
    /// so applied indexes are rarely all equal at one instant, while the visible state is).</summary>
    public async Task AssertReplicasIdenticalAsync()
    {
        var target = Running.Max(n => n.GetStatus().AppliedIndex);
        await Eventually.TrueAsync(
            () => Running.All(n => n.GetStatus().AppliedIndex >= target),
            TimeSpan.FromSeconds(30),
            $"all replicas applied index {target}");
        var hashes = new List<string>();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            hashes.Clear();
            foreach (var n in Running)
            {
                hashes.Add(await StateHashAsync(n));
            }

            if (hashes.Distinct().Count() == 1 || DateTime.UtcNow >= deadline)
            {
                break;
            }

            await Task.Delay(Poll.Interval);
        }

        Assert.Single(hashes.Distinct());
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var id in Nodes.Keys.ToList())
        {
            await StopNodeAsync(id);
        }

        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>An ephemeral loopback port free right now (shared by the single-node tests).</summary>
    internal static int FreePort() => RaftKv.TestSupport.FreePorts.Next();
}
