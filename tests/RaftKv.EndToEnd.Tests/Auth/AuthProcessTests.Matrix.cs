using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using V1 = RaftKv.Protocol.V1;
using V3 = RaftKv.Protocol.Etcd;

namespace RaftKv.EndToEnd.Tests.Auth;

public sealed partial class AuthProcessTests
{
    private static ByteString Bs(string s) => ByteString.CopyFromUtf8(s);

    private static async Task<StatusCode> CodeOf(Func<Task> call)
    {
        try
        {
            await call();
            return StatusCode.OK;
        }
        catch (RpcException e)
        {
            return e.StatusCode;
        }
    }

    private static async Task NativeGrpcMatrixAsync(string grpc, string token)
    {
        using var channel = GrpcChannel.ForAddress("http://" + grpc);
        var kv = new V1.KV.KVClient(channel);
        var cluster = new V1.Cluster.ClusterClient(channel);
        var t = Token(token);

        var got = await kv.GetAsync(new V1.GetRequest { Key = Bs("a/1") }, t);
        Assert.Equal("x", got.Kv.Value.ToStringUtf8());
        Assert.Equal(StatusCode.OK, await CodeOf(() => kv.RangeAsync(new V1.RangeRequest { Start = Bs("a/"), Prefix = true }, t).ResponseAsync));
        Assert.Equal(StatusCode.PermissionDenied, await CodeOf(() => kv.GetAsync(new V1.GetRequest { Key = Bs("b/1") }, t).ResponseAsync));
        Assert.Equal(StatusCode.PermissionDenied, await CodeOf(() => kv.RangeAsync(new V1.RangeRequest { Start = Bs("a/"), Prefix = true, Continuation = Bs("0") }, t).ResponseAsync));
        Assert.Equal(StatusCode.PermissionDenied, await CodeOf(() => kv.RangeAsync(new V1.RangeRequest(), t).ResponseAsync));
        Assert.Equal(StatusCode.PermissionDenied, await CodeOf(() => kv.PutAsync(new V1.PutRequest { Key = Bs("a/2"), Value = Bs("v") }, t).ResponseAsync));
        Assert.Equal(StatusCode.PermissionDenied, await CodeOf(() => kv.DeleteAsync(new V1.DeleteRequest { Key = Bs("a/"), Prefix = true }, t).ResponseAsync));
        var txn = new V1.TxnRequest { Compare = { new V1.Compare { Key = Bs("b/1"), Target = V1.Compare.Types.Target.Exists, Exists = true } }, Success = { new V1.TxnOp { Get = new V1.GetRequest { Key = Bs("a/1") } } } };
        Assert.Equal(StatusCode.PermissionDenied, await CodeOf(() => kv.TxnAsync(txn, t).ResponseAsync));
        Assert.Equal(StatusCode.PermissionDenied, await CodeOf(async () =>
        {
            using var watch = kv.Watch(new V1.WatchRequest { Key = Bs("b/"), Prefix = true }, t);
            await watch.ResponseStream.MoveNext();
        }));
        Assert.Equal(StatusCode.PermissionDenied, await CodeOf(() => cluster.AddMemberAsync(new V1.AddMemberRequest { Id = 9, RaftAddress = "127.0.0.1:1" }, t).ResponseAsync));
        Assert.Equal(StatusCode.PermissionDenied, await CodeOf(() => new V1.Admin.AdminClient(channel).FlushAsync(new V1.FlushRequest(), t).ResponseAsync));
        Assert.Equal(StatusCode.OK, await CodeOf(() => cluster.StatusAsync(new V1.StatusRequest(), t).ResponseAsync));

        Assert.Equal(StatusCode.Unauthenticated, await CodeOf(() => kv.GetAsync(new V1.GetRequest { Key = Bs("a/1") }).ResponseAsync)); // no token
        Assert.Equal(StatusCode.Unauthenticated, await CodeOf(() => kv.GetAsync(new V1.GetRequest { Key = Bs("a/1") }, Token("garbage")).ResponseAsync));
        Assert.Equal(StatusCode.OK, await CodeOf(() => kv.GetAsync(new V1.GetRequest { Key = Bs("a/1") }, new Metadata { { "authorization", "Bearer " + token } }).ResponseAsync));
    }

    private static async Task EtcdGrpcBadTokensAsync(string grpc, string token)
    {
        using var channel = GrpcChannel.ForAddress("http://" + grpc);
        var kv = new V3.KV.KVClient(channel);
        var parts = token.Split('.');
        foreach (var bad in new[] { "garbage", parts[0] + "." + parts[1] + ".AAAA", token[..^2] })
        {
            var e = await Assert.ThrowsAsync<RpcException>(() => kv.RangeAsync(new V3.RangeRequest { Key = Bs("a/1") }, Token(bad)).ResponseAsync);
            Assert.Equal(StatusCode.Unauthenticated, e.StatusCode);
            Assert.Equal("etcdserver: invalid auth token", e.Status.Detail);
        }

        var denied = await Assert.ThrowsAsync<RpcException>(() => kv.RangeAsync(new V3.RangeRequest { Key = Bs("b/1") }, Token(token)).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, denied.StatusCode);
        var lease = new V3.Lease.LeaseClient(channel);
        Assert.Equal(StatusCode.OK, await CodeOf(() => lease.LeaseGrantAsync(new V3.LeaseGrantRequest { TTL = 60 }, Token(token)).ResponseAsync));
        var status = await new V3.Auth.AuthClient(channel).AuthStatusAsync(new V3.AuthStatusRequest()); // open, like etcd
        Assert.True(status.Enabled);
        Assert.True(status.AuthRevision > 0);
    }

    private static async Task HttpMatrixAsync(HttpClient http, string baseUrl, string token)
    {
        async Task<(HttpStatusCode Status, string Code)> Send(HttpMethod method, string path, AuthenticationHeaderValue? auth, string? body = null)
        {
            using var m = new HttpRequestMessage(method, baseUrl + path);
            m.Headers.Authorization = auth;
            if (body is not null)
            {
                m.Content = JsonBody(body);
            }

            using var r = await http.SendAsync(m);
            var text = await r.Content.ReadAsStringAsync();
            var code = r.IsSuccessStatusCode || text.Length == 0 ? "" : JsonDocument.Parse(text).RootElement.TryGetProperty("code", out var c) ? c.GetString()! : "";
            return (r.StatusCode, code);
        }

        var bearer = new AuthenticationHeaderValue("Bearer", token);
        Assert.Equal(HttpStatusCode.OK, (await Send(HttpMethod.Get, "/kv/a/1", bearer)).Status);
        Assert.Equal(HttpStatusCode.OK, (await Send(HttpMethod.Get, "/kv/a/1", Basic("alice", AlicePassword))).Status);
        Assert.Equal(HttpStatusCode.OK, (await Send(HttpMethod.Get, "/kv?prefix=a/", bearer)).Status);
        Assert.Equal((HttpStatusCode.Forbidden, "permission_denied"), await Send(HttpMethod.Get, "/kv/b/1", bearer));
        Assert.Equal(HttpStatusCode.OK, (await Send(HttpMethod.Get, "/kv/a%2F1", bearer)).Status); // %2F is the key's slash: a/1
        Assert.Equal((HttpStatusCode.Forbidden, "permission_denied"), await Send(HttpMethod.Get, "/kv/b%2F1", bearer));
        Assert.Equal((HttpStatusCode.Forbidden, "permission_denied"), await Send(HttpMethod.Get, "/kv?prefix=", bearer));
        Assert.Equal((HttpStatusCode.Forbidden, "permission_denied"), await Send(HttpMethod.Get, "/kv?prefix=a/&start=0", bearer));
        Assert.Equal((HttpStatusCode.Forbidden, "permission_denied"), await Send(HttpMethod.Put, "/kv/a/2", bearer, "{\"value\":\"v\"}"));
        Assert.Equal((HttpStatusCode.Forbidden, "permission_denied"), await Send(HttpMethod.Delete, "/kv/a/1", bearer));
        Assert.Equal((HttpStatusCode.Forbidden, "permission_denied"), await Send(HttpMethod.Post, "/admin/flush", bearer));
        Assert.Equal((HttpStatusCode.Unauthorized, "unauthenticated"), await Send(HttpMethod.Get, "/kv/a/1", null));
        Assert.Equal((HttpStatusCode.Unauthorized, "invalid_token"), await Send(HttpMethod.Get, "/kv/a/1", new AuthenticationHeaderValue("Bearer", "x.y.z")));
        Assert.Equal((HttpStatusCode.Unauthorized, "auth_failed"), await Send(HttpMethod.Get, "/kv/a/1", Basic("alice", "nope")));
        Assert.Equal(HttpStatusCode.OK, (await Send(HttpMethod.Get, "/health", null)).Status);
        Assert.Equal(HttpStatusCode.OK, (await Send(HttpMethod.Get, "/metrics", null)).Status);
        Assert.Equal(HttpStatusCode.OK, (await Send(HttpMethod.Post, "/admin/flush", Basic("root", RootPassword))).Status);

        // POST /auth/authenticate reads its JSON body whatever the content type (a plain `curl -d` sends a form type).
        using var form = new StringContent($$"""{"name":"alice","password":"{{AlicePassword}}"}""", Encoding.UTF8, "application/x-www-form-urlencoded");
        using var authenticated = await http.PostAsync(baseUrl + "/auth/authenticate", form);
        Assert.Equal(HttpStatusCode.OK, authenticated.StatusCode);
        Assert.False(string.IsNullOrEmpty((await authenticated.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString()));
    }

    private static async Task RateLimitAsync(string grpc)
    {
        using var channel = GrpcChannel.ForAddress("http://" + grpc);
        var auth = new V3.Auth.AuthClient(channel);
        var seen = new List<string>();
        RpcException? last = null;
        for (var i = 0; i < 10 && last?.StatusCode != StatusCode.ResourceExhausted; i++)
        {
            last = await Assert.ThrowsAsync<RpcException>(() => auth.AuthenticateAsync(new V3.AuthenticateRequest { Name = "bob", Password = "wrong" + i }).ResponseAsync);
            seen.Add(last.Status.Detail);
        }

        // 5 failures per user per minute (AUTH_MAX_FAILURES): the 6th attempt is refused unchecked.
        Assert.Equal(StatusCode.ResourceExhausted, last!.StatusCode);
        Assert.Equal("etcdserver: too many requests", last.Status.Detail);
        Assert.True(seen.Count(d => d == "etcdserver: authentication failed, invalid user ID or password") == 5, string.Join(" | ", seen));

        // Even the right password is refused while the user is blocked (no oracle for the guesser).
        var blocked = await Assert.ThrowsAsync<RpcException>(() => auth.AuthenticateAsync(new V3.AuthenticateRequest { Name = "bob", Password = BobPassword }).ResponseAsync);
        Assert.Equal(StatusCode.ResourceExhausted, blocked.StatusCode);
    }
}
