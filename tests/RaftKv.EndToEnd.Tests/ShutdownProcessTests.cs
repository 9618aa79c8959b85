using Grpc.Core;
using Grpc.Net.Client;
using V3 = RaftKv.Protocol.Etcd;

namespace RaftKv.EndToEnd.Tests;

/// <summary>
/// SIGTERM with long-lived streams open (docs/operations.md, "Shutdown"): an etcd watch and a lease keep-alive stream
/// end with etcd's UNAVAILABLE "etcdserver: server stopped" (the client reconnects, to another endpoint if it has one)
/// and the node drains, flushes and exits 0. Before, Kestrel's graceful stop waited for the open streams until the
/// shutdown timeout, and the node's own stop then ran with a spent token and crashed (exit 134, memtable not flushed,
/// the data directory still locked by the dying process when the operator restarted it).
/// </summary>
public sealed class ShutdownProcessTests
{
    [Fact]
    public async Task SigtermWithAnOpenWatchAndKeepAliveEndsTheStreamsAndExitsCleanly()
    {
        using var c = new LocalCluster(1);
        c.StartAll();
        var n = await c.WaitForLeaderAsync();
        await c.WaitReadyAsync();

        using var channel = GrpcChannel.ForAddress("http://" + n.Grpc);
        await new V3.KV.KVClient(channel).PutAsync(new V3.PutRequest { Key = Google.Protobuf.ByteString.CopyFromUtf8("w"), Value = Google.Protobuf.ByteString.CopyFromUtf8("1") });
        using var watch = new V3.Watch.WatchClient(channel).Watch();
        await watch.RequestStream.WriteAsync(new V3.WatchRequest { CreateRequest = new V3.WatchCreateRequest { Key = Google.Protobuf.ByteString.CopyFromUtf8("w") } });
        Assert.True(await watch.ResponseStream.MoveNext());
        Assert.True(watch.ResponseStream.Current.Created);

        var leases = new V3.Lease.LeaseClient(channel);
        var id = (await leases.LeaseGrantAsync(new V3.LeaseGrantRequest { TTL = 60 })).ID;
        using var keepAlive = leases.LeaseKeepAlive();
        await keepAlive.RequestStream.WriteAsync(new V3.LeaseKeepAliveRequest { ID = id });
        Assert.True(await keepAlive.ResponseStream.MoveNext());

        var exit = n.TerminateAsync(TimeSpan.FromSeconds(90));
        var watchEnd = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            while (await watch.ResponseStream.MoveNext())
            {
            }
        });
        Assert.Equal((StatusCode.Unavailable, "etcdserver: server stopped"), (watchEnd.StatusCode, watchEnd.Status.Detail));
        var keepAliveEnd = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            while (await keepAlive.ResponseStream.MoveNext())
            {
            }
        });
        Assert.Equal(StatusCode.Unavailable, keepAliveEnd.StatusCode);

        Assert.Equal(0, await exit);
        Assert.Contains("stopped cleanly", n.Log());
    }
}
