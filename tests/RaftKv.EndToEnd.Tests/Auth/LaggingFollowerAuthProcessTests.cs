using System.Net;
using System.Net.Http.Headers;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using RaftKv.EndToEnd.Tests.Etcd;
using RaftKv.EndToEnd.Tests.FaultInjection;
using V1 = RaftKv.Protocol.V1;
using V3 = RaftKv.Protocol.Etcd;

namespace RaftKv.EndToEnd.Tests.Auth;

/// <summary>
/// A linearizable read is judged on the auth state after its read barrier (Pipeline/ReadFence.cs), as etcd judges
/// it after its read index: a follower that has not applied an acknowledged auth change yet must not serve a read
/// the change forbids. The follower is made to lag by dropping the packets to its Raft port (iptables, root) while
/// the change commits on the other two; the reads are sent to it, then the packets flow again. Before the fence
/// the gate judged the reads on arrival, by the old rules, and the follower answered them with data once it caught up.
/// </summary>
public sealed class LaggingFollowerAuthProcessTests
{
    private const string RootPassword = "root-Pw-5e21";
    private const string AlicePassword = "alice-Pw-0c77";

    [Fact]
    public async Task ALaggingFollowerJudgesLinearizableReadsByTheAuthChangesAcknowledgedBeforeThem()
    {
        using var c = new LocalCluster(3);
        c.StartAll();
        var leader = await c.WaitForLeaderAsync();
        await c.WaitReadyAsync();
        var lagging = c.Nodes.First(n => n != leader);
        var ep = leader.Grpc;
        (await Etcdctl.RunAsync(ep, "put", "a/1", "secret")).Ok();
        (await Etcdctl.RunAsync(ep, "user", "add", "root:" + RootPassword, "--interactive=false")).Ok();
        (await Etcdctl.RunAsync(ep, "user", "add", "alice:" + AlicePassword, "--interactive=false")).Ok();
        (await Etcdctl.RunAsync(ep, "role", "add", "reader")).Ok();
        (await Etcdctl.RunAsync(ep, "role", "grant-permission", "reader", "--prefix=true", "read", "a/")).Ok();
        (await Etcdctl.RunAsync(ep, "user", "grant-role", "alice", "reader")).Ok();
        await Eventually.TrueAsync(async () => await SerializableStatusAsync(c.Http, lagging, null) == HttpStatusCode.OK, TimeSpan.FromSeconds(30), "the follower applies the set-up");

        // 1. auth enable, acknowledged while the follower lags: anonymous linearizable reads on it are refused.
        using (var block = LoopbackPortBlock.Start(lagging.RaftPort))
        {
            (await Etcdctl.RunAsync(ep, "auth", "enable")).Ok();
            Assert.Equal(HttpStatusCode.OK, await SerializableStatusAsync(c.Http, lagging, null)); // it lags: its own state still has auth off

            using var channel = GrpcChannel.ForAddress("http://" + lagging.Grpc);
            var http = c.Http.GetAsync(lagging.Http + "/kv/a/1");
            var etcd = new V3.KV.KVClient(channel).RangeAsync(new V3.RangeRequest { Key = ByteString.CopyFromUtf8("a/1") }).ResponseAsync;
            var native = new V1.KV.KVClient(channel).GetAsync(new V1.GetRequest { Key = ByteString.CopyFromUtf8("a/1") }).ResponseAsync;
            Assert.Equal(HttpStatusCode.OK, await SerializableStatusAsync(c.Http, lagging, null)); // the reads above reached it by now
            block.Lift();

            using var answer = await http;
            Assert.Equal(HttpStatusCode.Unauthorized, answer.StatusCode);
            Assert.Equal(StatusCode.InvalidArgument, (await Assert.ThrowsAsync<RpcException>(() => etcd)).StatusCode); // etcd: "user name is empty"
            Assert.Equal(StatusCode.Unauthenticated, (await Assert.ThrowsAsync<RpcException>(() => native)).StatusCode);
        }

        // 2. A role revoked while the follower lags: the user's linearizable reads on it are refused.
        var alice = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes("alice:" + AlicePassword)));
        await Eventually.TrueAsync(async () => await SerializableStatusAsync(c.Http, lagging, alice) == HttpStatusCode.OK, TimeSpan.FromSeconds(30), "alice reads a/1 on the follower");
        using (var block = LoopbackPortBlock.Start(lagging.RaftPort))
        {
            (await Etcdctl.RunAsync(ep, "--user", "root:" + RootPassword, "user", "revoke-role", "alice", "reader")).Ok();
            Assert.Equal(HttpStatusCode.OK, await SerializableStatusAsync(c.Http, lagging, alice)); // still allowed by its old state

            using var read = new HttpRequestMessage(HttpMethod.Get, lagging.Http + "/kv/a/1") { Headers = { Authorization = alice } };
            var http = c.Http.SendAsync(read);
            Assert.Equal(HttpStatusCode.OK, await SerializableStatusAsync(c.Http, lagging, alice));
            block.Lift();

            using var answer = await http;
            Assert.Equal(HttpStatusCode.Forbidden, answer.StatusCode);
        }
    }

    /// <summary>A serializable read of a/1 on <paramref name="node"/>: judged and served on its local state.</summary>
    private static async Task<HttpStatusCode> SerializableStatusAsync(HttpClient http, ServerProcess node, AuthenticationHeaderValue? auth)
    {
        using var m = new HttpRequestMessage(HttpMethod.Get, node.Http + "/kv/a/1?consistency=serializable") { Headers = { Authorization = auth } };
        using var r = await http.SendAsync(m);
        return r.StatusCode;
    }
}
