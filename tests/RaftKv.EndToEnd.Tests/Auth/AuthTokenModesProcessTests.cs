using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.RegularExpressions;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using RaftKv.EndToEnd.Tests.Etcd;
using V3 = RaftKv.Protocol.Etcd;

namespace RaftKv.EndToEnd.Tests.Auth;

/// <summary>
/// etcd's other auth options on real processes: simple tokens (AUTH_TOKEN=simple: made known to every member
/// through the log, as etcd's Authenticate does, so etcd's Go client given every member uses one token everywhere;
/// refused everywhere with etcd's exact "invalid auth token" once the user changes), and users with a pre-hashed
/// (bcrypt) password or with no password at all (client certificate CN only).
/// </summary>
public sealed class AuthTokenModesProcessTests
{
    private const string RootPassword = "root-Pw-41d2";
    private const string AlicePassword = "alice-Pw-0b7e";

    [Fact]
    public async Task SimpleTokensAreKnownOnEveryMember()
    {
        using var c = new LocalCluster(3, new Dictionary<string, string> { ["AUTH_TOKEN"] = "simple" });
        c.StartAll();
        var leader = await c.WaitForLeaderAsync();
        await c.WaitReadyAsync();
        var follower = c.Nodes.First(n => n != leader);
        var other = c.Nodes.First(n => n != leader && n != follower);
        var ep = follower.Grpc;
        (await Etcdctl.RunAsync(ep, "put", "a/1", "x")).Ok();
        (await Etcdctl.RunAsync(ep, "user", "add", "root:" + RootPassword, "--interactive=false")).Ok();
        (await Etcdctl.RunAsync(ep, "user", "add", "alice:" + AlicePassword, "--interactive=false")).Ok();
        (await Etcdctl.RunAsync(ep, "role", "add", "rw")).Ok();
        (await Etcdctl.RunAsync(ep, "role", "grant-permission", "rw", "--prefix=true", "readwrite", "a/")).Ok();
        (await Etcdctl.RunAsync(ep, "user", "grant-role", "alice", "rw")).Ok();
        Assert.Contains("Authentication Enabled", (await Etcdctl.RunAsync(ep, "auth", "enable")).Ok().Out, StringComparison.Ordinal);

        using var channel = GrpcChannel.ForAddress("http://" + follower.Grpc);
        var token = (await new V3.Auth.AuthClient(channel).AuthenticateAsync(new V3.AuthenticateRequest { Name = "alice", Password = AlicePassword })).Token;
        Assert.Matches(new Regex("^[a-zA-Z]{16}\\.[0-9]+$"), token); // etcd's simple token, not a JWT
        var kv = new V3.KV.KVClient(channel);
        var t = new Metadata { { "token", token } };
        Assert.Equal("x", (await kv.RangeAsync(new V3.RangeRequest { Key = Bs("a/1") }, t)).Kvs.Single().Value.ToStringUtf8());

        // A write through the follower is forwarded to the leader with a token the follower signs for the user.
        await kv.PutAsync(new V3.PutRequest { Key = Bs("a/2"), Value = Bs("y") }, t);
        Assert.Contains("y", (await Etcdctl.RunAsync(leader.Grpc, "--user", "root:" + RootPassword, "get", "a/2")).Ok().Out, StringComparison.Ordinal);
        using (var put = new HttpRequestMessage(HttpMethod.Put, follower.Http + "/kv/a/3") { Content = new StringContent("{\"value\":\"z\"}", Encoding.UTF8, "application/json") })
        {
            put.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token); // HTTP forwarding too
            using var r = await c.Http.SendAsync(put);
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        }

        Assert.Equal(StatusCode.PermissionDenied, (await Assert.ThrowsAsync<RpcException>(() => kv.PutAsync(new V3.PutRequest { Key = Bs("b/1"), Value = Bs("v") }, t).ResponseAsync)).StatusCode);

        // Every other member knows the token too (once it applied the assignment: a moment at most).
        var channels = c.Nodes.Select(n => GrpcChannel.ForAddress("http://" + n.Grpc)).ToList();
        using var disposeChannels = new DisposeAll(channels);
        var kvs = channels.Select(ch => new V3.KV.KVClient(ch)).ToList();
        foreach (var elsewhere in kvs)
        {
            await Eventually.TrueAsync(async () => await Answers(elsewhere) == StatusCode.OK, TimeSpan.FromSeconds(30), "another member takes the follower's simple token");
        }

        var unknown = await Assert.ThrowsAsync<RpcException>(() => kvs[0].RangeAsync(new V3.RangeRequest { Key = Bs("a/1") }, new Metadata { { "token", "abcdefghijklmnop.1" } }).ResponseAsync);
        Assert.Equal((StatusCode.Unauthenticated, "etcdserver: invalid auth token"), (unknown.StatusCode, unknown.Status.Detail)); // etcd's exact error

        // A password change (through another node) invalidates the token on every member.
        (await Etcdctl.RunWithInputAsync(other.Grpc, "alice-new-Pw-2\n", "--user", "root:" + RootPassword, "user", "passwd", "alice", "--interactive=false")).Ok();
        foreach (var elsewhere in kvs)
        {
            await Eventually.TrueAsync(async () => await Answers(elsewhere) == StatusCode.Unauthenticated, TimeSpan.FromSeconds(30), "the simple token is refused after the password change");
        }

        // etcd's Go client given every member (it balances its calls over all of them) on one simple token.
        await Etcd.Clients.GoClientV3.PassesAsync("kv", string.Join(",", c.Nodes.Select(n => n.Grpc)), c, "-user", "root", "-password", RootPassword);

        async Task<StatusCode> Answers(V3.KV.KVClient client)
        {
            try
            {
                await client.RangeAsync(new V3.RangeRequest { Key = Bs("a/1") }, t);
                return StatusCode.OK;
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.Unauthenticated)
            {
                Assert.Equal("etcdserver: invalid auth token", e.Status.Detail);
                return e.StatusCode;
            }
        }
        Assert.Contains("x", (await Etcdctl.RunAsync(other.Grpc, "--user", "alice:alice-new-Pw-2", "get", "a/1")).Ok().Out, StringComparison.Ordinal);

        foreach (var n in c.Nodes)
        {
            Assert.DoesNotContain(token, n.Log(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task PreHashedAndNoPasswordUsers()
    {
        using var kit = new TlsTestKit();
        var node = kit.Issue(kit.Ca, "node1");
        var rootCert = kit.Issue(kit.Ca, "root", clientOnly: true);
        var carolCert = kit.Issue(kit.Ca, "carol", clientOnly: true);
        var nobodyCert = kit.Issue(kit.Ca, "nobody", clientOnly: true);
        using var c = new LocalCluster(1, null, _ => kit.NodeEnv(node.CertFile, node.KeyFile, kit.CaFile, clientCertAuth: true), TlsTestKit.Client([kit.Ca.Certificate], rootCert.Cert.Certificate));
        c.StartAll();
        var n = await c.WaitForLeaderAsync();
        await c.WaitReadyAsync();
        GrpcChannel Channel(System.Security.Cryptography.X509Certificates.X509Certificate2 cert)
            => GrpcChannel.ForAddress("https://" + n.Grpc, new GrpcChannelOptions { HttpHandler = TlsTestKit.Handler([kit.Ca.Certificate], cert) });
        using var asRoot = Channel(rootCert.Cert.Certificate);
        var auth = new V3.Auth.AuthClient(asRoot);
        var kvRoot = new V3.KV.KVClient(asRoot);
        await kvRoot.PutAsync(new V3.PutRequest { Key = Bs("a/1"), Value = Bs("x") });
        await kvRoot.PutAsync(new V3.PutRequest { Key = Bs("b/1"), Value = Bs("y") });
        await auth.RoleAddAsync(new V3.AuthRoleAddRequest { Name = "root" });
        await auth.UserAddAsync(new V3.AuthUserAddRequest { Name = "root", Password = RootPassword });
        await auth.UserGrantRoleAsync(new V3.AuthUserGrantRoleRequest { User = "root", Role = "root" });
        await auth.RoleAddAsync(new V3.AuthRoleAddRequest { Name = "reader" });
        await auth.RoleGrantPermissionAsync(new V3.AuthRoleGrantPermissionRequest
        {
            Name = "reader",
            Perm = new RaftKv.Protocol.Etcd.Authpb.Permission { PermType = RaftKv.Protocol.Etcd.Authpb.Permission.Types.Type.Read, Key = Bs("a/"), RangeEnd = Bs("a0") },
        });

        // dave: only a bcrypt hash reaches the server (etcd 3.5's hashedPassword); carol: no password at all.
        await auth.UserAddAsync(new V3.AuthUserAddRequest { Name = "dave", HashedPassword = BCrypt.Net.BCrypt.HashPassword("dave-Pw-1", workFactor: 5) });
        await auth.UserAddAsync(new V3.AuthUserAddRequest { Name = "carol", Options = new RaftKv.Protocol.Etcd.Authpb.UserAddOptions { NoPassword = true } });
        var bad = await Assert.ThrowsAsync<RpcException>(() => auth.UserAddAsync(new V3.AuthUserAddRequest { Name = "eve", HashedPassword = "not-a-bcrypt-hash" }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, bad.StatusCode);
        foreach (var u in new[] { "dave", "carol" })
        {
            await auth.UserGrantRoleAsync(new V3.AuthUserGrantRoleRequest { User = u, Role = "reader" });
        }

        await auth.AuthEnableAsync(new V3.AuthEnableRequest());

        using var asNobody = Channel(nobodyCert.Cert.Certificate); // a CN that is no user: only tokens count
        await AssertDaveAsync(asNobody, "dave-Pw-1", "wrong-Pw");
        foreach (var (user, password) in new[] { ("carol", string.Empty), ("carol", "anything"), ("dave", string.Empty) })
        {
            var refused = await Assert.ThrowsAsync<RpcException>(() => new V3.Auth.AuthClient(asNobody).AuthenticateAsync(new V3.AuthenticateRequest { Name = user, Password = password }).ResponseAsync);
            Assert.Equal("etcdserver: authentication failed, invalid user ID or password", refused.Status.Detail);
        }

        // carol works through her certificate's CN, with her roles.
        using (var asCarol = Channel(carolCert.Cert.Certificate))
        {
            var kv = new V3.KV.KVClient(asCarol);
            Assert.Equal("x", (await kv.RangeAsync(new V3.RangeRequest { Key = Bs("a/1") })).Kvs.Single().Value.ToStringUtf8());
            Assert.Equal(StatusCode.PermissionDenied, (await Assert.ThrowsAsync<RpcException>(() => kv.RangeAsync(new V3.RangeRequest { Key = Bs("b/1") }).ResponseAsync)).StatusCode);
        }

        // A pre-hashed password change, in etcd's own base64 form, replaces the old one.
        var newHash = Convert.ToBase64String(Encoding.ASCII.GetBytes(BCrypt.Net.BCrypt.HashPassword("dave-Pw-2", workFactor: 5)));
        await auth.UserChangePasswordAsync(new V3.AuthUserChangePasswordRequest { Name = "dave", HashedPassword = newHash });
        await AssertDaveAsync(asNobody, "dave-Pw-2", "dave-Pw-1");

        // The hash survives a restart (it is replicated state).
        await n.TerminateAsync(TimeSpan.FromSeconds(30));
        n.Start();
        await c.WaitForLeaderAsync();
        await c.WaitReadyAsync();
        using var again = Channel(nobodyCert.Cert.Certificate);
        await AssertDaveAsync(again, "dave-Pw-2", "dave-Pw-1");
        Assert.DoesNotContain("dave-Pw-", n.Log(), StringComparison.Ordinal);
    }

    private static async Task AssertDaveAsync(GrpcChannel channel, string password, string wrong)
    {
        var auth = new V3.Auth.AuthClient(channel);
        var token = (await auth.AuthenticateAsync(new V3.AuthenticateRequest { Name = "dave", Password = password })).Token;
        var kv = new V3.KV.KVClient(channel);
        var t = new Metadata { { "token", token } };
        Assert.Equal("x", (await kv.RangeAsync(new V3.RangeRequest { Key = Bs("a/1") }, t)).Kvs.Single().Value.ToStringUtf8());
        Assert.Equal(StatusCode.PermissionDenied, (await Assert.ThrowsAsync<RpcException>(() => kv.RangeAsync(new V3.RangeRequest { Key = Bs("b/1") }, t).ResponseAsync)).StatusCode);
        var e = await Assert.ThrowsAsync<RpcException>(() => auth.AuthenticateAsync(new V3.AuthenticateRequest { Name = "dave", Password = wrong }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Assert.Equal("etcdserver: authentication failed, invalid user ID or password", e.Status.Detail);
    }

    private static ByteString Bs(string s) => ByteString.CopyFromUtf8(s);

    private sealed class DisposeAll(IEnumerable<IDisposable> items) : IDisposable
    {
        public void Dispose()
        {
            foreach (var item in items)
            {
                item.Dispose();
            }
        }
    }
}
