using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using RaftKv.Protocol.V1;

namespace RaftKv.EndToEnd.Tests;

/// <summary>Writes received by a follower are proxied to the leader with the headers that carry meaning.</summary>
public sealed class LeaderForwardingTests
{
    private static StringContent Json(string s) => new(s, Encoding.UTF8, "application/json");

    /// <summary>Regression: the follower dropped <c>X-Request-Id</c> when it forwarded a write, so a
    /// client's retry through a follower was applied a second time (docs/api.md promises at most once).
    /// Here the retry comes after another write to the same key: applied again, it would overwrite it.</summary>
    [Fact]
    public async Task RetryWithSameRequestIdThroughFollowerIsAppliedOnce()
    {
        using var c = new LocalCluster(3);
        c.StartAll();
        var leader = await c.WaitForLeaderAsync();
        await c.WaitReadyAsync();
        var follower = c.Nodes.First(n => n != leader);
        var requestId = "retry-" + Guid.NewGuid().ToString("N");

        long first;
        using (var put = Put(follower.Http + "/kv/idem", "{\"value\":\"first\"}", requestId))
        using (var r = await c.Http.SendAsync(put))
        {
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
            first = (await r.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("version").GetInt64();
        }

        long between;
        using (var r = await c.Http.PutAsync(leader.Http + "/kv/idem", Json("{\"value\":\"between\"}")))
        {
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
            between = (await r.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("version").GetInt64();
        }

        Assert.True(between > first);
        using (var retry = Put(follower.Http + "/kv/idem", "{\"value\":\"first\"}", requestId))
        using (var r = await c.Http.SendAsync(retry))
        {
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
            var version = (await r.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("version").GetInt64();
            Assert.Equal(first, version); // the original write's answer, not a new entry
        }

        var got = await c.Http.GetFromJsonAsync<JsonElement>(leader.Http + "/kv/idem");
        Assert.Equal("between", got.GetProperty("value").GetString());
        Assert.Equal(between, got.GetProperty("version").GetInt64());
    }

    /// <summary>The gRPC front door forwards writes through a server interceptor; the request id is in
    /// the message, so a retry through a follower is applied once here too. Forwarded metadata must not
    /// break the hop (authorization and x-request-id are passed on).</summary>
    [Fact]
    public async Task GrpcWritesThroughFollowerAreForwardedAndDeduplicated()
    {
        using var c = new LocalCluster(3);
        c.StartAll();
        var leader = await c.WaitForLeaderAsync();
        await c.WaitReadyAsync();
        var follower = c.Nodes.First(n => n != leader);
        using var followerChannel = GrpcChannel.ForAddress("http://" + follower.Grpc);
        using var leaderChannel = GrpcChannel.ForAddress("http://" + leader.Grpc);
        var viaFollower = new KV.KVClient(followerChannel);
        var direct = new KV.KVClient(leaderChannel);
        var metadata = new Metadata { { "authorization", "Bearer test" }, { "x-request-id", "meta-1" } };
        var put = new PutRequest { Key = ByteString.CopyFromUtf8("g/idem"), Value = ByteString.CopyFromUtf8("first"), RequestId = "grpc-" + Guid.NewGuid().ToString("N") };

        var first = await viaFollower.PutAsync(put, metadata);
        var between = await direct.PutAsync(new PutRequest { Key = put.Key, Value = ByteString.CopyFromUtf8("between") });
        Assert.True(between.Version > first.Version);
        var retry = await viaFollower.PutAsync(put, metadata);
        Assert.Equal(first.Version, retry.Version);

        var got = await direct.GetAsync(new GetRequest { Key = put.Key });
        Assert.Equal("between", got.Kv.Value.ToStringUtf8());

        var txn = await viaFollower.TxnAsync(new TxnRequest
        {
            Compare = { new Compare { Key = put.Key, Target = Compare.Types.Target.Version, Op = Compare.Types.Op.Equal, Version = between.Version } },
            Success = { new TxnOp { Delete = new DeleteRequest { Key = put.Key } } },
        });
        Assert.True(txn.Succeeded);
        Assert.False((await direct.GetAsync(new GetRequest { Key = put.Key })).Found);

        var bad = await Assert.ThrowsAsync<RpcException>(async () => await viaFollower.PutAsync(new PutRequest { Value = ByteString.CopyFromUtf8("no key") }));
        Assert.Equal(StatusCode.InvalidArgument, bad.StatusCode); // the leader's status comes back unchanged
    }

    private static HttpRequestMessage Put(string url, string json, string requestId)
    {
        var m = new HttpRequestMessage(HttpMethod.Put, url) { Content = Json(json) };
        m.Headers.Add("X-Request-Id", requestId);
        return m;
    }
}
