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

    public long MemtableMaxBytes { get; init; } = 64L << 20;
    public long MemtableMaxEntries { get; init; } = 1_000_000;
    public int MaxKeyBytes { get; init; } = 4096;
    public int MaxValueBytes { get; init; } = 8 << 20;

    /// <summary>The most ops one branch of a transaction may hold (etcd's <c>--max-txn-ops</c>, default 128);
    /// more is refused with <see cref="Api.TooManyTxnOpsException"/>.</summary>
    public int MaxTxnOps { get; init; } = 128;

    /// <summary>Size of one chunk file of DotNext's WAL (<see cref="RaftLogEngine.DotNext"/> only; fixed when the WAL is created).</summary>
    public int WalChunkBytes { get; init; } = 4 << 20;

    /// <summary>Which Raft log backs the node (see <see cref="RaftLogEngine"/>).</summary>
    public RaftLogEngine LogEngine { get; init; } = RaftLogEngine.RaftKv;

    public TimeSpan ElectionTimeoutLower { get; init; } = TimeSpan.FromMilliseconds(300);
    public TimeSpan ElectionTimeoutUpper { get; init; } = TimeSpan.FromMilliseconds(600);
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>How long a write or linearizable read waits for a leader/quorum before 503.</summary>
    public TimeSpan OperationTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>The idle leader proposes a Tick this often to advance the logical clock (TTL).</summary>
    public TimeSpan TickInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Optional L3 tier for archived tables.</summary>
    public IRemoteTableStore? RemoteStore { get; init; }

    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>
    /// The file system of the store, the snapshots and RaftKv's Raft log (tests pass a crashable one).
    /// DotNext's WAL engine and the membership file always use the real file system.
    /// </summary>
    public Storage.IO.IFileSystem FileSystem { get; init; } = Storage.IO.PhysicalFileSystem.Instance;

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
