using System.Net;
using System.Text.Json;
using static RaftKv.EndToEnd.Tests.Etcd.Gateway.GatewayHttp;

namespace RaftKv.EndToEnd.Tests.Etcd.Gateway;

/// <summary>Auth through etcd's JSON gateway on a 3-node cluster of its own (it enables auth): users and roles set
/// up and auth enabled with gateway calls, a token from /v3/auth/authenticate in <c>Authorization</c> (bare, as etcd
/// expects it) at a follower and at the leader, and etcd's errors as grpc-gateway bodies with their HTTP status.</summary>
public sealed class EtcdGatewayAuthTests : IAsyncLifetime
{
    private const string RootPassword = "gw-root-Pw-3f9a";
    private readonly LocalCluster _cluster = new(3);

    public async Task InitializeAsync()
    {
        _cluster.StartAll();
        await _cluster.WaitForLeaderAsync();
        await _cluster.WaitReadyAsync();
    }

    public Task DisposeAsync()
    {
        _cluster.Dispose();
        return Task.CompletedTask;
    }

    [Fact]
    public async Task TokenInAuthorizationAuthenticatesGatewayCalls()
    {
        var leader = (await _cluster.WaitForLeaderAsync()).Http;
        var follower = _cluster.Nodes.First(n => n.IsRunning && n.Http != leader).Http;
        await OkAsync(follower, "/v3/auth/user/add", $$$"""{"name":"root","password":"{{{RootPassword}}}"}""");
        await OkAsync(follower, "/v3/auth/role/add", """{"name":"root"}""");
        await OkAsync(follower, "/v3/auth/user/grant", """{"user":"root","role":"root"}""");
        await OkAsync(follower, "/v3/auth/enable", "{}");

        var put = $$$"""{"key":"{{{B64("gw/auth")}}}","value":"{{{B64("v")}}}"}""";
        foreach (var at in new[] { follower, leader })
        {
            // No token: etcd's error, as JSON, with the HTTP status of its gRPC code.
            var (status, error) = await PostAsync(at, "/v3/kv/put", put);
            Assert.Equal(HttpStatusCode.BadRequest, status);
            Assert.Equal(3, error.GetProperty("code").GetInt32());
            Assert.Equal("etcdserver: user name is empty", error.GetProperty("error").GetString());

            (status, error) = await PostAsync(at, "/v3/kv/put", put, token: "not-a-token");
            Assert.Equal(HttpStatusCode.Unauthorized, status);
            Assert.Equal(16, error.GetProperty("code").GetInt32());
            Assert.Equal("etcdserver: invalid auth token", error.GetProperty("message").GetString());

            // A watch stream is open to anyone, as etcd 3.4's: each create is answered created + canceled with etcd's
            // reason (etcd's clients renew an expired token on the invalid-token one and watch again).
            foreach (var (badToken, reason) in new[]
            {
                ((string?)null, "rpc error: code = InvalidArgument desc = etcdserver: user name is empty"),
                ("not-a-token", "rpc error: code = Unauthenticated desc = etcdserver: invalid auth token"),
            })
            {
                using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(30));
                using var watch = await OpenStreamAsync(at, "/v3/watch", $$$"""{"create_request":{"key":"{{{B64("gw/auth")}}}"}}""", cancel.Token, badToken);
                using var lines = new StreamReader(await watch.Content.ReadAsStreamAsync(cancel.Token));
                var first = await lines.ReadLineAsync(cancel.Token);
                Assert.True(watch.StatusCode == HttpStatusCode.OK, $"{(int)watch.StatusCode} {first}");
                var result = JsonDocument.Parse(first!).RootElement.GetProperty("result");
                Assert.True(result.GetProperty("created").GetBoolean() && result.GetProperty("canceled").GetBoolean(), first);
                Assert.Equal(reason, result.GetProperty("cancel_reason").GetString());
            }

            (status, error) = await PostAsync(at, "/v3/auth/authenticate", """{"name":"root","password":"wrong"}""");
            Assert.Equal(HttpStatusCode.BadRequest, status);
            Assert.Equal("etcdserver: authentication failed, invalid user ID or password", error.GetProperty("error").GetString());

            // As etcd: member list and status need no token and ignore a bad one (Patroni lists members before it
            // authenticates, and with an expired token later).
            foreach (var badToken in new[] { null, "not-a-token" })
            {
                Assert.Equal(3, (await OkAsync(at, "/v3/cluster/member/list", "{}", badToken)).GetProperty("members").GetArrayLength());
                Assert.False(string.IsNullOrEmpty((await OkAsync(at, "/v3/maintenance/status", "{}", badToken)).GetProperty("version").GetString()));
            }

            var token = (await OkAsync(at, "/v3/auth/authenticate", $$$"""{"name":"root","password":"{{{RootPassword}}}"}""")).GetProperty("token").GetString()!;

            // As etcd: a keep-alive reads no token (the lease ID is the capability), so a bad or expired one keeps the lease.
            var lease = (await OkAsync(at, "/v3/lease/grant", """{"TTL":60}""", token)).GetProperty("ID").GetString();
            using (var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(30)))
            using (var keepAlive = await OpenStreamAsync(at, "/v3/lease/keepalive", $$$"""{"ID":"{{{lease}}}"}""", cancel.Token, "not-a-token"))
            using (var lines = new StreamReader(await keepAlive.Content.ReadAsStreamAsync(cancel.Token)))
            {
                var first = await lines.ReadLineAsync(cancel.Token);
                Assert.Equal("60", JsonDocument.Parse(first!).RootElement.GetProperty("result").GetProperty("TTL").GetString());
            }

            var written = await OkAsync(at, "/v3/kv/put", put, token);
            var read = await OkAsync(at, "/v3/kv/range", $$$"""{"key":"{{{B64("gw/auth")}}}"}""", token);
            Assert.Equal(Revision(written), Long(System.Linq.Enumerable.Single(read.GetProperty("kvs").EnumerateArray()), "mod_revision"));
        }
    }
}
