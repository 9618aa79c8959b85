namespace RaftKv.EndToEnd.Tests.Etcd;

/// <summary>
/// A real 3-node RaftKv cluster for the etcdctl tests of one class, started once. Node 1 also
/// listens on <see cref="EtcdPort"/> (ETCD_PORT, etcd's 2379 in deployments).
/// </summary>
public sealed class EtcdClusterFixture : IAsyncLifetime
{
    public EtcdClusterFixture()
    {
        EtcdPort = ServerProcess.FreePort();
        Cluster = new LocalCluster(3, null, i => i == 1 ? new Dictionary<string, string> { ["ETCD_PORT"] = EtcdPort.ToString(System.Globalization.CultureInfo.InvariantCulture) } : null);
    }

    internal LocalCluster Cluster { get; }

    public int EtcdPort { get; }

    /// <summary>Every node's gRPC endpoint, comma-separated (etcdctl --endpoints).</summary>
    public string Endpoints => string.Join(',', Cluster.Nodes.Where(n => n.IsRunning).Select(n => n.Grpc));

    internal ServerProcess Node(int id) => Cluster.Nodes[id - 1];

    public async Task InitializeAsync()
    {
        _ = Etcdctl.Path; // fail fast, with the install hint, before starting processes
        Cluster.StartAll();
        await Cluster.WaitForLeaderAsync();
        await Cluster.WaitReadyAsync();
    }

    public Task DisposeAsync()
    {
        Cluster.Dispose();
        return Task.CompletedTask;
    }
}
