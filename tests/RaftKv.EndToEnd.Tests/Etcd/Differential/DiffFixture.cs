namespace RaftKv.EndToEnd.Tests.Etcd.Differential;

/// <summary>A real etcd 3.4 and a single RaftKv node, both empty, started once for the differential tests
/// (which mirror every write on both, so their revisions stay equal). Progress notifications every 500 ms on both.</summary>
public sealed class DiffFixture : IAsyncLifetime
{
    public static readonly TimeSpan ProgressInterval = TimeSpan.FromMilliseconds(500);

    private EtcdServer? _etcd;
    private LocalCluster? _raftkv;

    internal DiffSide Etcd { get; private set; } = null!;

    internal DiffSide RaftKv { get; private set; } = null!;

    /// <summary>etcd's JSON gateway: its client URL.</summary>
    internal string EtcdHttp => "http://" + _etcd!.Endpoint;

    /// <summary>RaftKv's JSON gateway: the node's HTTP port.</summary>
    internal string RaftKvHttp => _raftkv!.Nodes[0].Http;

    /// <summary>RaftKv's JSON gateway on its client (gRPC) port, as etcd serves it on its client URL.</summary>
    internal string RaftKvClientPort => "http://" + _raftkv!.Nodes[0].Grpc;

    internal string Logs => $"etcd:\n{Tail(_etcd?.Log())}\nraftkv:\n{Tail(_raftkv?.Nodes[0].Log())}";

    public async Task InitializeAsync()
    {
        _etcd = new EtcdServer(ProgressInterval);
        _raftkv = new LocalCluster(1, new Dictionary<string, string> { ["WATCH_PROGRESS_NOTIFY_INTERVAL"] = ProgressInterval.TotalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        _raftkv.StartAll();
        await _etcd.WaitReadyAsync(TimeSpan.FromSeconds(60));
        await _raftkv.WaitForLeaderAsync();
        await _raftkv.WaitReadyAsync();
        Etcd = new DiffSide("etcd", _etcd.Endpoint);
        RaftKv = new DiffSide("raftkv", _raftkv.Nodes[0].Grpc);
    }

    public Task DisposeAsync()
    {
        Etcd?.Dispose();
        RaftKv?.Dispose();
        _etcd?.Dispose();
        _raftkv?.Dispose();
        return Task.CompletedTask;
    }

    private static string Tail(string? log) => log is null ? string.Empty : log[^Math.Min(4000, log.Length)..];
}
