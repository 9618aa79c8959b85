using Grpc.Core;
using Grpc.Net.Client;
using RaftKv.EndToEnd.Tests.Etcd;
using V3 = RaftKv.Protocol.Etcd;

namespace RaftKv.EndToEnd.Tests.Auth;

/// <summary>
/// A lease kept alive through a follower with auth on (JWT tokens of 3 s): the follower renews through an upstream
/// stream to the leader, reopened when the leader changes. The stream outlives the caller's token and the first
/// token the follower minted for it: after a leader kill the renewal must still go through the reopened upstream
/// stream (it carries a token minted when it opens), else the lease — a lock, an election — would expire while its
/// owner keeps it alive.
/// </summary>
public sealed class LeaseKeepAliveAuthProcessTests
{
    private const string RootPassword = "root-Pw-7c1e";

    [Fact]
    public async Task KeepAliveStreamThroughAFollowerOutlivesItsTokenAcrossALeaderChange()
    {
        using var c = new LocalCluster(3, new Dictionary<string, string> { ["AUTH_TOKEN_TTL"] = "3" });
        c.StartAll();
        var leader = await c.WaitForLeaderAsync();
        await c.WaitReadyAsync();
        var follower = c.Nodes.First(n => n != leader);
        (await Etcdctl.RunAsync(follower.Grpc, "user", "add", "root:" + RootPassword, "--interactive=false")).Ok();
        (await Etcdctl.RunAsync(follower.Grpc, "auth", "enable")).Ok();

        using var channel = GrpcChannel.ForAddress("http://" + follower.Grpc);
        var token = (await new V3.Auth.AuthClient(channel).AuthenticateAsync(new V3.AuthenticateRequest { Name = "root", Password = RootPassword })).Token;
        var auth = new Metadata { { "token", token } };
        var lease = new V3.Lease.LeaseClient(channel);
        var id = (await lease.LeaseGrantAsync(new V3.LeaseGrantRequest { TTL = 60 }, auth)).ID;
        using var stream = lease.LeaseKeepAlive(auth);
        await stream.RequestStream.WriteAsync(new V3.LeaseKeepAliveRequest { ID = id });
        Assert.True(await stream.ResponseStream.MoveNext());
        Assert.Equal(60, stream.ResponseStream.Current.TTL);

        // The caller's token — and the forward token minted with it — expire (a new call with it is refused).
        var kv = new V3.KV.KVClient(channel);
        await Eventually.TrueAsync(
            async () =>
            {
                try
                {
                    await kv.RangeAsync(new V3.RangeRequest { Key = Google.Protobuf.ByteString.CopyFromUtf8("k") }, auth);
                    return false;
                }
                catch (RpcException e) when (e.StatusCode == StatusCode.Unauthenticated)
                {
                    return true;
                }
            },
            TimeSpan.FromSeconds(60),
            "the caller's token has expired");

        // The leader dies; the follower renews through the new leader over a reopened upstream stream.
        leader.Kill();
        var next = await c.WaitForLeaderAsync();
        Assert.NotEqual(leader, next);
        long ttl = 0;
        await Eventually.TrueAsync(
            async () =>
            {
                await stream.RequestStream.WriteAsync(new V3.LeaseKeepAliveRequest { ID = id });
                Assert.True(await stream.ResponseStream.MoveNext());
                ttl = stream.ResponseStream.Current.TTL;
                return ttl > 0;
            },
            TimeSpan.FromSeconds(60),
            "a renewal through the new leader");
        Assert.Equal(60, ttl);
    }
}
