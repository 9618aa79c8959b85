using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using RaftKv.Storage.IO;
using RaftKv.TestSupport.IO;

namespace RaftKv.Replication.Tests;

/// <summary>
/// A single <see cref="KvNode"/> on a <see cref="CrashableMemoryFileSystem"/> (faults injected through its
/// <c>BeforeOperation</c>, power cuts through <c>Crash</c>), restartable on the same data directory and Raft
/// address: the set-up the disk-fault tests share (<see cref="FsyncFailStopTests"/>, <see cref="LogDiskFullNoSpaceTests"/>).
/// </summary>
internal sealed class MemoryDiskNode : IDisposable
{
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    private readonly TempDir _dir;
    private readonly string _raft = $"127.0.0.1:{TestCluster.FreePort()}";

    public MemoryDiskNode(string prefix) => _dir = new TempDir(prefix);

    public CrashableMemoryFileSystem Fs { get; } = new();

    /// <summary>The node's data directory (absolute, as the file system sees its paths).</summary>
    public string DataDir => Path.GetFullPath(Path.Combine(_dir.Path, "n1"));

    public static byte[] B(string s) => Encoding.UTF8.GetBytes(s);

    /// <summary>Creates and starts node 1 (a one-member cluster) on <see cref="Fs"/>; with <paramref name="waitForLeader"/>,
    /// returns once it leads. <paramref name="configure"/> adjusts the options (e.g. a shorter space check).</summary>
    public async Task<KvNode> StartAsync(IFatalErrorHandler? handler = null, bool waitForLeader = true, Func<KvNodeOptions, KvNodeOptions>? configure = null)
    {
        var options = new KvNodeOptions
        {
            NodeId = 1,
            DataDir = DataDir,
            RaftListen = _raft,
            RaftAdvertise = _raft,
            GrpcAdvertise = "127.0.0.1:1",
            HttpAdvertise = "127.0.0.1:2",
            OperationTimeout = TimeSpan.FromSeconds(3),
            FileSystem = Fs,
            FatalErrorHandler = handler,
        };
        var node = await KvNode.CreateAsync(configure?.Invoke(options) ?? options, NullLoggerFactory.Instance);
        await node.StartAsync();
        if (waitForLeader)
        {
            await Eventually.TrueAsync(() => node.IsLeader, Deadline, "the single node leads");
        }

        return node;
    }

    public void Dispose() => _dir.Dispose();
}
