namespace RaftKv.EndToEnd.Tests;

/// <summary>A single-node server shared by the bad-input tests (started once, lives for the test run).</summary>
internal sealed class SharedNode : IDisposable
{
    private static readonly Lazy<LocalCluster> Cluster = new(() =>
    {
        var c = new LocalCluster(1);
        c.StartAll();
        c.WaitForLeaderAsync().GetAwaiter().GetResult();
        c.WaitReadyAsync().GetAwaiter().GetResult();
        AppDomain.CurrentDomain.ProcessExit += (_, _) => c.Dispose();
        return c;
    });

    public string Url => Cluster.Value.Nodes[0].Http;

    public HttpClient Http => Cluster.Value.Http;

    public string Grpc => Cluster.Value.Nodes[0].Grpc;

    public static SharedNode Get() => new();

    public void Dispose()
    {
    }
}
