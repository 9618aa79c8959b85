using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using RaftKv.Replication.Api;
using RaftKv.Storage;
using RaftKv.Storage.Tests;

namespace RaftKv.Replication.Tests;

/// <summary>
/// Applying never waits on the object store (docs/architecture.md, "Apply never waits on S3"): with
/// the store switched off, a compare-and-set on an archived key applies at once from local metadata,
/// and a value compare on it is refused before anything is proposed. The RGW-backed cluster version
/// is <see cref="ObjectStoreOutageClusterTests"/>.
/// </summary>
public sealed class ObjectStoreOutageTests : IAsyncLifetime
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "raftkv-outage-" + Guid.NewGuid().ToString("N"));
    private readonly string _raft = $"127.0.0.1:{TestCluster.FreePort()}";
    private DirectoryRemoteTableStore _objects = null!;
    private KvNode? _node;

    private static byte[] B(string s) => Encoding.UTF8.GetBytes(s);

    public Task InitializeAsync()
    {
        _objects = new DirectoryRemoteTableStore(Path.Combine(_root, "objects"));
        return Task.CompletedTask;
    }

    [Fact]
    public async Task ApplyAnswersFromLocalMetadataWhileTheObjectStoreIsDown()
    {
        _node = await StartAsync();

        // Filler keys sort between the reserved keys and "cold", so "cold" sits in a data block of
        // its own that only a read of "cold" fetches.
        var filler = new byte[200];
        for (var i = 0; i < 200; i += 20)
        {
            await _node.WriteAsync(new KvTxn([], Enumerable.Range(i, 20).Select(j => KvOp.Put(B($"b{j:D3}"), filler)).ToList(), []));
        }

        var put = await _node.WriteAsync(KvTxn.Single(KvOp.Put(B("cold"), B("a value longer than sixteen bytes"))));
        await _node.FlushAsync();
        foreach (var t in _node.TieredStore.ListTables())
        {
            Assert.True(await _node.TieredStore.ArchiveTableAsync(t.Id, $"t/{t.Id}.sst"));
        }

        // Restart so no block of the archived table is cached: reading "cold" needs the object store.
        await _node.StopAsync();
        _node = await StartAsync();
        _objects.Available = false;
        await Assert.ThrowsAsync<RemoteTierUnavailableException>(async () => await _node.GetAsync(B("cold"), ReadConsistency.Linearizable));

        var cas = new KvTxn([new KvCompare(B("cold"), CompareTarget.Mod, CompareOp.Equal, put.Revision)], [KvOp.Put(B("cold"), B("v2"))], []);
        Assert.True((await _node.WriteAsync(cas)).Succeeded);
        var byValue = new KvTxn([new KvCompare(B("b007"), CompareTarget.Value, CompareOp.Equal, Value: filler)], [KvOp.Put(B("x"), B("y"))], []);
        var refused = await Assert.ThrowsAsync<RemoteTierUnavailableException>(() => _node.WriteAsync(byValue));
        Assert.Contains("nothing was proposed", refused.Message, StringComparison.Ordinal);
        Assert.Equal(1, (await _node.WriteAsync(KvTxn.Single(KvOp.Delete(B("b008"))))).Results[0].Deleted);
        Assert.Equal("v2", Encoding.UTF8.GetString((await _node.GetAsync(B("cold"), ReadConsistency.Linearizable))!.Value.Value.ToArray()));

        _objects.Available = true;
        Assert.True((await _node.WriteAsync(byValue)).Succeeded);
        Assert.Null(await _node.GetAsync(B("b008"), ReadConsistency.Linearizable));
        Assert.Equal(0, _node.ValueCompareConflicts);
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


    public async Task DisposeAsync()
    {
        if (_node is not null)
        {
            await _node.StopAsync();
        }

        Directory.Delete(_root, recursive: true);
    }
}
