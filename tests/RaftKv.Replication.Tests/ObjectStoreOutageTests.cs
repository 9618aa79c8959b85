using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using RaftKv.Replication.Api;
using RaftKv.Storage.Tests;

namespace RaftKv.Replication.Tests;

/// <summary>
/// An entry whose apply needs an archived table while the object store is down must neither fault
/// DotNext's applier for good nor be applied differently: the node waits and applies it once the
/// store is back, then keeps serving.
/// </summary>
public sealed class ObjectStoreOutageTests : IAsyncLifetime
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "raftkv-outage-" + Guid.NewGuid().ToString("N"));
    private readonly string _raft = $"127.0.0.1:{FreePort()}";
    private DirectoryRemoteTableStore _objects = null!;
    private KvNode? _node;

    private static byte[] B(string s) => Encoding.UTF8.GetBytes(s);

    public Task InitializeAsync()
    {
        _objects = new DirectoryRemoteTableStore(Path.Combine(_root, "objects"));
        return Task.CompletedTask;
    }

    [Fact]
    public async Task ApplyWaitsForTheObjectStoreInsteadOfFaulting()
    {
        _node = await StartAsync();

        // Filler keys sort between the reserved keys (read at start-up) and "cold", so "cold" sits in
        // a data block of its own that only a read of "cold" fetches.
        var filler = new byte[200];
        for (var i = 0; i < 200; i += 20)
        {
            await _node.WriteAsync(new KvTxn([], Enumerable.Range(i, 20).Select(j => KvOp.Put(B($"b{j:D3}"), filler)).ToList(), []));
        }

        var put = await _node.WriteAsync(KvTxn.Single(KvOp.Put(B("cold"), B("v1"))));
        await _node.FlushAsync();
        foreach (var t in _node.TieredStore.ListTables())
        {
            Assert.True(await _node.TieredStore.ArchiveTableAsync(t.Id, $"t/{t.Id}.sst"));
        }

        // Restart so no block of the archived table is cached: reading "cold" needs the object store.
        await _node.StopAsync();
        _node = await StartAsync();
        _objects.Available = false;

        var cas = new KvTxn([new KvCompare(B("cold"), CompareTarget.Version, CompareOp.Equal, put.Index)], [KvOp.Put(B("cold"), B("v2"))], []);
        var outage = await Assert.ThrowsAsync<UnavailableException>(() => _node.WriteAsync(cas));
        Assert.True(outage.OutcomeUnknown);
        Assert.True(_node.ApplyStalls > 0, "the applier should have met the outage and retried");

        _objects.Available = true;
        await Eventually.TrueAsync(
            async () => (await _node.GetAsync(B("cold"), ReadConsistency.Serializable))?.Value.ToArray() is { } v && Encoding.UTF8.GetString(v) == "v2",
            TimeSpan.FromSeconds(60),
            "the stalled compare-and-set applies once the store is back");
        Assert.Equal("v2", Encoding.UTF8.GetString((await _node.GetAsync(B("cold"), ReadConsistency.Linearizable))!.Value.Value.ToArray()));
        var after = await _node.WriteAsync(KvTxn.Single(KvOp.Put(B("warm"), B("x"))));
        Assert.True(after.Index > put.Index);
    }

    private async Task<KvNode> StartAsync()
    {
        var node = await KvNode.CreateAsync(
            new KvNodeOptions
            {
                NodeId = 1,
                DataDir = Path.Combine(_root, "n1"),
                RaftListen = _raft,
                RaftAdvertise = _raft,
                GrpcAdvertise = "127.0.0.1:1",
                HttpAdvertise = "127.0.0.1:2",
                RemoteStore = _objects,
                OperationTimeout = TimeSpan.FromSeconds(3),
            },
            NullLoggerFactory.Instance);
        await node.StartAsync();
        await Eventually.TrueAsync(() => node.IsLeader, TimeSpan.FromSeconds(30), "the single node leads");
        return node;
    }

    private static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    public async Task DisposeAsync()
    {
        if (_node is not null)
        {
            await _node.StopAsync();
        }

        Directory.Delete(_root, recursive: true);
    }
}
