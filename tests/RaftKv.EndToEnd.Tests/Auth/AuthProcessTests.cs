using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using RaftKv.EndToEnd.Tests.Etcd;
using V1 = RaftKv.Protocol.V1;
using V3 = RaftKv.Protocol.Etcd;

namespace RaftKv.EndToEnd.Tests.Auth;

/// <summary>
/// etcd's users and roles end to end on a real 3-node cluster: set up with etcdctl through a follower (so
/// every change is forwarded), then the permission matrix of a user with READ on <c>a/</c> on each front door
/// (etcdctl / etcd gRPC, native gRPC, HTTP), bad credentials, the rate limit, a password change invalidating
/// tokens, a full restart, and no password or token in any node's log.
/// </summary>
public sealed partial class AuthProcessTests
{
    private const string RootPassword = "root-Pw-7c1e";
    private const string AlicePassword = "alice-Pw-93ab";
    private const string BobPassword = "bob-Pw-55d0";

    [Fact]
    public async Task UsersRolesAndPermissionsOnEveryFrontDoor()
    {
        using var c = new LocalCluster(3);
        c.StartAll();
        var leader = await c.WaitForLeaderAsync();
        await c.WaitReadyAsync();
        var follower = c.Nodes.First(n => n != leader);
        var ep = follower.Grpc;

        (await Etcdctl.RunAsync(ep, "put", "a/1", "x")).Ok();
        (await Etcdctl.RunAsync(ep, "put", "b/1", "y")).Ok();
        (await Etcdctl.RunAsync(ep, "user", "add", "root:" + RootPassword, "--interactive=false")).Ok();
        (await Etcdctl.RunAsync(ep, "user", "add", "alice:" + AlicePassword, "--interactive=false")).Ok();
        (await Etcdctl.RunAsync(ep, "user", "add", "bob:" + BobPassword, "--interactive=false")).Ok();
        var dup = await Etcdctl.RunAsync(ep, "user", "add", "alice:whatever", "--interactive=false");
        Assert.Contains("etcdserver: user name already exists", dup.Err, StringComparison.Ordinal);
        (await Etcdctl.RunAsync(ep, "role", "add", "reader")).Ok();
        (await Etcdctl.RunAsync(ep, "role", "grant-permission", "reader", "--prefix=true", "read", "a/")).Ok();
        (await Etcdctl.RunAsync(ep, "user", "grant-role", "alice", "reader")).Ok();
        var enable = await Etcdctl.RunAsync(ep, "auth", "enable"); // etcdctl adds the root role and grants it to root first
        Assert.True(enable.Code == 0, enable.ToString());
        Assert.Contains("Authentication Enabled", enable.Out, StringComparison.Ordinal);

        await EtcdctlMatrixAsync(ep);
        var token = await AuthenticateAsync(follower.Grpc, "alice", AlicePassword);
        await NativeGrpcMatrixAsync(follower.Grpc, token);
        await EtcdGrpcBadTokensAsync(follower.Grpc, token);
        await HttpMatrixAsync(c.Http, follower.Http, token);

        // Root writes through a follower: forwarded to the leader with a token the follower minted.
        (await Etcdctl.RunAsync(ep, "--user", "root:" + RootPassword, "put", "b/2", "z")).Ok();
        using (var put = new HttpRequestMessage(HttpMethod.Put, follower.Http + "/kv/b/3") { Content = JsonBody("{\"value\":\"w\"}") })
        {
            put.Headers.Authorization = Basic("root", RootPassword);
            using var r = await c.Http.SendAsync(put);
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        }

        await LockServiceThroughFollowerAsync(follower.Grpc, await AuthenticateAsync(follower.Grpc, "root", RootPassword), token);

        // Member-to-member calls carry the member's own token: a corruption check reaches every member.
        using (var check = new HttpRequestMessage(HttpMethod.Post, follower.Http + "/admin/corruption-check"))
        {
            check.Headers.Authorization = Basic("root", RootPassword);
            using var r = await c.Http.SendAsync(check);
            var body = await r.Content.ReadAsStringAsync();
            Assert.True(r.StatusCode == HttpStatusCode.OK, body);
            Assert.Equal(0, System.Text.Json.JsonDocument.Parse(body).RootElement.GetProperty("unanswered").GetArrayLength());
        }

        await RateLimitAsync(follower.Grpc);

        // A password change makes the user's earlier tokens stale.
        (await Etcdctl.RunWithInputAsync(ep, "alice-new-Pw-1\n", "--user", "root:" + RootPassword, "user", "passwd", "alice", "--interactive=false")).Ok();
        await Eventually.TrueAsync(async () => (await NativeGetStatusAsync(follower.Grpc, token, "a/1")) == StatusCode.Unauthenticated, TimeSpan.FromSeconds(30), "the old token is refused after the password change");

        // Auth survives a full restart of every node.
        foreach (var n in c.Nodes)
        {
            await n.TerminateAsync(TimeSpan.FromSeconds(30));
        }

        c.StartAll();
        await c.WaitForLeaderAsync();
        await c.WaitReadyAsync();
        var after = c.Nodes[2].Grpc;
        var denied = await Etcdctl.RunAsync(after, "--user", "alice:alice-new-Pw-1", "get", "b/1");
        Assert.Contains("etcdserver: permission denied", denied.Err, StringComparison.Ordinal);
        var allowed = (await Etcdctl.RunAsync(after, "--user", "alice:alice-new-Pw-1", "get", "a/1")).Ok();
        Assert.Contains("x", allowed.Out, StringComparison.Ordinal);
        Assert.Contains("user name is empty", (await Etcdctl.RunAsync(after, "get", "a/1")).Err, StringComparison.Ordinal);

        // Nothing secret in any node's log.
        foreach (var n in c.Nodes)
        {
            var log = n.Log();
            foreach (var secret in new[] { RootPassword, AlicePassword, BobPassword, "alice-new-Pw-1", token, token.Split('.')[2] })
            {
                Assert.DoesNotContain(secret, log, StringComparison.Ordinal);
            }
        }
    }

    private static async Task EtcdctlMatrixAsync(string ep)
    {
        string[] alice = ["--user", "alice:" + AlicePassword];
        var read = await Etcdctl.RunAsync(ep, [.. alice, "get", "a/1"]);
        Assert.True(read.Code == 0, read.ToString());
        Assert.Contains("x", read.Out, StringComparison.Ordinal);
        Assert.True((await Etcdctl.RunAsync(ep, [.. alice, "get", "a/", "--prefix"])).Code == 0);

        foreach (var args in new[]
        {
            new[] { "get", "b/1" },
            ["get", "", "--prefix"],
            ["get", "a/", "--from-key"],
            ["put", "a/2", "v"],
            ["del", "a/1"],
            ["member", "add", "n9", "--peer-urls=http://127.0.0.1:1"],
            ["user", "list"],
            ["role", "add", "sneaky"],
            ["defrag"], // root only, as on etcd (alarm disarm with no alarm armed sends nothing)
            ["lock", "a/lk", "echo", "held"], // etcd's Lock writes a key under the name: read on a/ is not enough
            ["elect", "a/e", "candidate"],
        })
        {
            var r = await Etcdctl.RunAsync(ep, [.. alice, .. args]);
            Assert.True(r.Code != 0, $"alice may not {string.Join(' ', args)}: {r}");
            Assert.Contains("etcdserver: permission denied", r.Err, StringComparison.Ordinal);
        }

        // As on etcd 3.4 (no permission check there): any user compacts and lists alarms; a client without a user does not.
        Assert.True((await Etcdctl.RunAsync(ep, [.. alice, "alarm", "list"])).Code == 0);
        var compacted = await Etcdctl.RunAsync(ep, [.. alice, "compaction", "1"]);
        Assert.True(compacted.Code == 0 || compacted.Err.Contains("required revision has been compacted", StringComparison.Ordinal), compacted.ToString());
        Assert.Contains("etcdserver: user name is empty", (await Etcdctl.RunAsync(ep, "compaction", "1")).Err, StringComparison.Ordinal);

        // As on etcd: member list and endpoint status need no user (clients and health scripts read them before or without one).
        Assert.Contains("started", (await Etcdctl.RunAsync(ep, "member", "list")).Ok().Out, StringComparison.Ordinal);
        Assert.Contains("3.5.0", (await Etcdctl.RunAsync(ep, "endpoint", "status")).Ok().Out, StringComparison.Ordinal);

        // Lock and Election through a follower (forwarded with the token it mints for root), as etcdctl drives them.
        var held = await Etcdctl.RunAsync(ep, "--user", "root:" + RootPassword, "lock", "b/lk", "echo", "held");
        Assert.True(held.Code == 0 && held.Out.Contains("held", StringComparison.Ordinal), held.ToString());

        // A txn whose compare reads outside the permission is refused, though its ops are inside it.
        var txn = await Etcdctl.RunWithInputAsync(ep, "value(\"b/1\") = \"y\"\n\nget a/1\n\nget a/1\n\n", [.. alice, "txn"]);
        Assert.Contains("etcdserver: permission denied", txn.Err, StringComparison.Ordinal);
        var txnInside = await Etcdctl.RunWithInputAsync(ep, "value(\"a/1\") = \"x\"\n\nget a/1\n\n\n", [.. alice, "txn"]);
        Assert.True(txnInside.Code == 0, txnInside.ToString());

        // A watch outside the permission is canceled at creation, with etcd 3.4's cancel reason (the gRPC status text).
        var watch = await Etcdctl.RunAsync(ep, [.. alice, "watch", "b/", "--prefix"]);
        Assert.Contains("watch was canceled (rpc error: code = PermissionDenied desc = etcdserver: permission denied)", watch.Out + watch.Err, StringComparison.Ordinal);

        // Without a user the stream opens and the watch is canceled at creation, with etcd 3.4's reason (not a failed stream).
        var anonymous = await Etcdctl.RunAsync(ep, "watch", "a/", "--prefix");
        Assert.Contains("watch was canceled (rpc error: code = InvalidArgument desc = etcdserver: user name is empty)", anonymous.Out + anonymous.Err, StringComparison.Ordinal);

        Assert.Contains("etcdserver: user name is empty", (await Etcdctl.RunAsync(ep, "get", "a/1")).Err, StringComparison.Ordinal);
        Assert.Contains("etcdserver: authentication failed, invalid user ID or password", (await Etcdctl.RunAsync(ep, "--user", "alice:wrong", "get", "a/1")).Err, StringComparison.Ordinal);
        Assert.Contains("etcdserver: authentication failed, invalid user ID or password", (await Etcdctl.RunAsync(ep, "--user", "nobody:pw", "get", "a/1")).Err, StringComparison.Ordinal);
        var root = (await Etcdctl.RunAsync(ep, "--user", "root:" + RootPassword, "get", "b/1")).Ok();
        Assert.Contains("y", root.Out, StringComparison.Ordinal);
        var roles = (await Etcdctl.RunAsync(ep, "--user", "root:" + RootPassword, "role", "get", "reader")).Ok();
        Assert.Contains("[a/, a0) (prefix a/)", roles.Out, StringComparison.Ordinal);
    }

    /// <summary>A started one-node cluster with auth on: user root, and <paramref name="user"/> holding role
    /// <paramref name="role"/> (read-write on <paramref name="prefix"/>); <paramref name="otherRoles"/> exist, unheld.
    /// Returns the cluster and its gRPC endpoint.</summary>
    private static async Task<(LocalCluster Cluster, string Endpoint)> StartWithUserAsync(string user, string password, string role, string prefix, params string[] otherRoles)
    {
        var c = new LocalCluster(1);
        c.StartAll();
        await c.WaitForLeaderAsync();
        await c.WaitReadyAsync();
        var ep = c.Nodes[0].Grpc;
        (await Etcdctl.RunAsync(ep, "user", "add", "root:" + RootPassword, "--interactive=false")).Ok();
        (await Etcdctl.RunAsync(ep, "user", "add", user + ":" + password, "--interactive=false")).Ok();
        foreach (var r in otherRoles.Prepend(role))
        {
            (await Etcdctl.RunAsync(ep, "role", "add", r)).Ok();
        }

        (await Etcdctl.RunAsync(ep, "role", "grant-permission", role, "--prefix=true", "readwrite", prefix)).Ok();
        (await Etcdctl.RunAsync(ep, "user", "grant-role", user, role)).Ok();
        (await Etcdctl.RunAsync(ep, "auth", "enable")).Ok();
        return (c, ep);
    }

    private static async Task<string> AuthenticateAsync(string grpc, string user, string password)
    {
        using var channel = GrpcChannel.ForAddress("http://" + grpc);
        var r = await new V3.Auth.AuthClient(channel).AuthenticateAsync(new V3.AuthenticateRequest { Name = user, Password = password });
        return r.Token;
    }

    private static Metadata Token(string token) => new() { { "token", token } };

    private static async Task<StatusCode> NativeGetStatusAsync(string grpc, string token, string key)
    {
        using var channel = GrpcChannel.ForAddress("http://" + grpc);
        try
        {
            await new V1.KV.KVClient(channel).GetAsync(new V1.GetRequest { Key = ByteString.CopyFromUtf8(key) }, Token(token));
            return StatusCode.OK;
        }
        catch (RpcException e)
        {
            return e.StatusCode;
        }
    }

    private static StringContent JsonBody(string s) => new(s, Encoding.UTF8, "application/json");

    private static AuthenticationHeaderValue Basic(string user, string password)
        => new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(user + ":" + password)));
}
