using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using V3 = RaftKv.Protocol.Etcd;

namespace RaftKv.EndToEnd.Tests.Etcd;

/// <summary>
/// etcd's "require leader" (clientv3's <c>WithRequireLeader</c>, metadata <c>hasleader: true</c>; the Kubernetes API server
/// watches with it) on a member cut off from the quorum (the two others SIGSTOPped): its watch that requires a leader is
/// ended with UNAVAILABLE "etcdserver: no leader" (so the client moves to another member instead of stalling without
/// events), a call that requires a leader is refused the same way, and a serializable read without it is still answered.
/// Once the others are back, calls that require a leader are answered again.
/// </summary>
public sealed class RequireLeaderProcessTests
{
    private static readonly Metadata RequireLeader = new() { { "hasleader", "true" } };

    [Fact]
    public async Task AMemberWithoutALeaderEndsWatchesAndRefusesCallsThatRequireOne()
    {
        using var c = new LocalCluster(3);
        c.StartAll();
        var leader = await c.WaitForLeaderAsync();
        await c.WaitReadyAsync();
        var member = c.Nodes.First(n => n != leader);
        var others = c.Nodes.Where(n => n != member).ToList();

        using var channel = GrpcChannel.ForAddress("http://" + member.Grpc);
        var kv = new V3.KV.KVClient(channel);
        var key = ByteString.CopyFromUtf8("rl/k");
        await kv.PutAsync(new V3.PutRequest { Key = key, Value = ByteString.CopyFromUtf8("1") }, RequireLeader);
        using var watch = new V3.Watch.WatchClient(channel).Watch(RequireLeader);
        await watch.RequestStream.WriteAsync(new V3.WatchRequest { CreateRequest = new V3.WatchCreateRequest { Key = key } });
        Assert.True(await watch.ResponseStream.MoveNext());
        Assert.True(watch.ResponseStream.Current.Created);

        foreach (var n in others)
        {
            await n.PauseAsync();
        }

        try
        {
            var ended = await Assert.ThrowsAsync<RpcException>(async () =>
            {
                using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(90));
                while (await watch.ResponseStream.MoveNext(deadline.Token))
                {
                }
            });
            Assert.Equal((StatusCode.Unavailable, "etcdserver: no leader"), (ended.StatusCode, ended.Status.Detail));

            var refused = await Assert.ThrowsAsync<RpcException>(() => kv.RangeAsync(new V3.RangeRequest { Key = key, Serializable = true }, RequireLeader).ResponseAsync);
            Assert.Equal((StatusCode.Unavailable, "etcdserver: no leader"), (refused.StatusCode, refused.Status.Detail));
            using var newWatch = new V3.Watch.WatchClient(channel).Watch(RequireLeader);
            var refusedWatch = await Assert.ThrowsAsync<RpcException>(async () =>
            {
                await newWatch.RequestStream.WriteAsync(new V3.WatchRequest { CreateRequest = new V3.WatchCreateRequest { Key = key } });
                await newWatch.ResponseStream.MoveNext();
            });
            Assert.Equal(StatusCode.Unavailable, refusedWatch.StatusCode);

            var local = await kv.RangeAsync(new V3.RangeRequest { Key = key, Serializable = true });
            Assert.Equal("1", local.Kvs.Single().Value.ToStringUtf8());
        }
        finally
        {
            foreach (var n in others)
            {
                await n.ResumeAsync();
            }
        }

        await Eventually.TrueAsync(
            async () =>
            {
                try
                {
                    return (await kv.RangeAsync(new V3.RangeRequest { Key = key }, RequireLeader)).Kvs.Count == 1;
                }
                catch (RpcException e) when (e.StatusCode == StatusCode.Unavailable)
                {
                    return false;
                }
            },
            TimeSpan.FromSeconds(60),
            "a call that requires a leader is answered once the others are back");
    }
}
