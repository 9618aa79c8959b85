using RaftKv.EndToEnd.Tests.Etcd.Differential;

namespace RaftKv.EndToEnd.Tests.Etcd;

/// <summary>Two single RaftKv nodes (a source and a destination of <c>etcdctl make-mirror</c>) and a real etcd 3.4,
/// started once for <see cref="EtcdctlMakeMirrorTests"/>; every test works under its own key prefix.</summary>
public sealed class MakeMirrorFixture : IAsyncLifetime
{
    private readonly LocalCluster _source = new(1);
    private readonly LocalCluster _destination = new(1);
    private EtcdServer? _etcd;

    internal DiffSide Source { get; private set; } = null!;

    internal DiffSide Destination { get; private set; } = null!;

    internal DiffSide Etcd { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        _ = Etcdctl.Path;
        _etcd = new EtcdServer(TimeSpan.FromSeconds(5));
        _source.StartAll();
        _destination.StartAll();
        await _etcd.WaitReadyAsync(TimeSpan.FromSeconds(60));
        foreach (var c in new[] { _source, _destination })
        {
            await c.WaitForLeaderAsync();
            await c.WaitReadyAsync();
        }

        Source = new DiffSide("raftkv-source", _source.Nodes[0].Grpc);
        Destination = new DiffSide("raftkv-destination", _destination.Nodes[0].Grpc);
        Etcd = new DiffSide("etcd", _etcd.Endpoint);
    }

    public Task DisposeAsync()
    {
        Source?.Dispose();
        Destination?.Dispose();
        Etcd?.Dispose();
        _source.Dispose();
        _destination.Dispose();
        _etcd?.Dispose();
        return Task.CompletedTask;
    }
}
