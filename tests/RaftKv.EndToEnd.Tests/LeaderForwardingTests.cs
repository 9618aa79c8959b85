using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace RaftKv.EndToEnd.Tests;

/// <summary>Writes received by a follower are proxied to the leader with the headers that carry meaning.</summary>
[Collection("processes")]
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

    private static HttpRequestMessage Put(string url, string json, string requestId)
    {
        var m = new HttpRequestMessage(HttpMethod.Put, url) { Content = Json(json) };
        m.Headers.Add("X-Request-Id", requestId);
        return m;
    }
}
