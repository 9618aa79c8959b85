using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace RaftKv.EndToEnd.Tests;

public sealed class HttpApiTests
{
    private static StringContent Json(string s) => new(s, Encoding.UTF8, "application/json");

    [Fact]
    public async Task SingleNodeSeedCallsWorkVerbatim()
    {
        using var c = new LocalCluster(1);
        c.StartAll();
        var n = await c.WaitForLeaderAsync();
        await c.WaitReadyAsync();

        using (var put = await c.Http.PutAsync(n.Http + "/kv/mykey", Json("{\"value\": \"Hello, World!\"}")))
        {
            Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        }

        var got = await c.Http.GetFromJsonAsync<JsonElement>(n.Http + "/kv/mykey");
        Assert.Equal("mykey", got.GetProperty("key").GetString());
        Assert.Equal("Hello, World!", got.GetProperty("value").GetString());
        Assert.Equal("memory", got.GetProperty("tier").GetString());

        using (var head = await c.Http.SendAsync(new HttpRequestMessage(HttpMethod.Head, n.Http + "/kv/mykey")))
        {
            Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        }

        using (var del = await c.Http.DeleteAsync(n.Http + "/kv/mykey"))
        {
            Assert.Equal(HttpStatusCode.OK, del.StatusCode);
        }

        using (var head = await c.Http.SendAsync(new HttpRequestMessage(HttpMethod.Head, n.Http + "/kv/mykey")))
        {
            Assert.Equal(HttpStatusCode.NotFound, head.StatusCode);
        }

        // Raw bytes in, raw bytes out; TTL; prefix listing; stats; metrics.
        var raw = new ByteArrayContent([0, 1, 2, 255]);
        raw.Headers.ContentType = new("application/octet-stream");
        using (var put = await c.Http.PutAsync(n.Http + "/kv/bin/1?ttl=3600", raw))
        {
            Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        }

        using (var req = new HttpRequestMessage(HttpMethod.Get, n.Http + "/kv/bin/1"))
        {
            req.Headers.Accept.ParseAdd("application/octet-stream");
            using var r = await c.Http.SendAsync(req);
            Assert.Equal([0, 1, 2, 255], await r.Content.ReadAsByteArrayAsync());
        }

        var list = await c.Http.GetFromJsonAsync<JsonElement>(n.Http + "/kv?prefix=bin/&limit=10");
        Assert.Equal(1, list.GetProperty("count").GetInt32());
        Assert.Equal("base64", list.GetProperty("items")[0].GetProperty("encoding").GetString());
        var stats = await c.Http.GetFromJsonAsync<JsonElement>(n.Http + "/stats");
        foreach (var field in new[] { "memory_entries", "memory_size_bytes", "memory_hit_rate", "disk_entries", "disk_size_bytes", "disk_usage_percent", "migrations_completed", "term", "commit_index", "applied_index" })
        {
            Assert.True(stats.TryGetProperty(field, out _), $"/stats lacks {field}");
        }

        var metrics = await c.Http.GetStringAsync(n.Http + "/metrics");
        Assert.Contains("raftkv_operations_total", metrics);
        Assert.Contains("raftkv_applied_index", metrics);

        using (var flush = await c.Http.PostAsync(n.Http + "/admin/flush", null))
        {
            Assert.Equal(HttpStatusCode.OK, flush.StatusCode);
        }

        var afterFlush = await c.Http.GetFromJsonAsync<JsonElement>(n.Http + "/kv/bin/1");
        Assert.Equal("disk", afterFlush.GetProperty("tier").GetString());
        using (var compact = await c.Http.PostAsync(n.Http + "/admin/compact", null))
        {
            Assert.Equal(HttpStatusCode.OK, compact.StatusCode);
        }

        Assert.Equal(0, await n.TerminateAsync(TimeSpan.FromSeconds(30))); // SIGTERM drains, flushes, exits 0
        Assert.Contains("stopped cleanly", n.Log());
    }

    /// <summary><c>tables_before</c> is counted after the compaction's own flush: a node whose data is all in the
    /// memtable (no table on disk yet) reports the table(s) the flush made, not 0.</summary>
    [Fact]
    public async Task CompactCountsTablesBeforeAfterItsFlush()
    {
        using var c = new LocalCluster(1);
        c.StartAll();
        var n = await c.WaitForLeaderAsync();
        await c.WaitReadyAsync();
        using (var put = await c.Http.PutAsync(n.Http + "/kv/memtable/only", Json("{\"value\": \"not flushed\"}")))
        {
            Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        }

        var onDisk = (await c.Http.GetFromJsonAsync<JsonElement>(n.Http + "/stats")).GetProperty("sstables_per_level").EnumerateArray().Sum(l => l.GetInt32());
        using var compact = await c.Http.PostAsync(n.Http + "/admin/compact", null);
        Assert.Equal(HttpStatusCode.OK, compact.StatusCode);
        var body = await compact.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(body.GetProperty("tables_before").GetInt32() > onDisk, $"{onDisk} tables on disk before the compaction: {body}");
        Assert.True(body.GetProperty("tables_after").GetInt32() >= 1, body.ToString());
    }

    [Theory]
    [InlineData("PUT", "/kv/", "application/json", "{\"value\":\"x\"}", 400)]
    [InlineData("PUT", "/kv/k", "application/json", "{\"value\": ", 400)]
    [InlineData("PUT", "/kv/k", "application/json", "{\"nothing\": 1}", 400)]
    [InlineData("PUT", "/kv/k?ttl=abc", "application/json", "{\"value\":\"x\"}", 400)]
    [InlineData("PUT", "/kv/k?ttl=-5", "application/json", "{\"value\":\"x\"}", 400)]
    [InlineData("GET", "/kv/k?consistency=sometimes", null, null, 400)]
    [InlineData("GET", "/no/such/route", null, null, 404)]
    [InlineData("GET", "/kv/missing", null, null, 404)]
    [InlineData("GET", "/kv?limit=0", null, null, 400)]
    [InlineData("PUT", "/kv/k", "application/json", "{\"value\":\"x\",\"encoding\":\"rot13\"}", 400)]
    [InlineData("POST", "/admin/move-leader?target=abc", null, null, 400)]
    [InlineData("GET", "/stats/load?seconds=1e3", null, null, 400)]
    [InlineData("POST", "/auth/users", "application/json", "{\"name\":\"\",\"password\":\"p\"}", 400)]
    public async Task BadInputGetsJson4xxAndTheNodeStaysHealthy(string method, string path, string? type, string? body, int status)
    {
        using var c = SharedNode.Get();
        using var req = new HttpRequestMessage(new HttpMethod(method), c.Url + path);
        if (body is not null)
        {
            req.Content = new StringContent(body, Encoding.UTF8, type!);
        }

        using var r = await c.Http.SendAsync(req);
        Assert.Equal(status, (int)r.StatusCode);
        var json = await r.Content.ReadFromJsonAsync<JsonElement>();
        Assert.False(string.IsNullOrEmpty(json.GetProperty("error").GetString()));
        Assert.False(string.IsNullOrEmpty(json.GetProperty("code").GetString()));
        using var health = await c.Http.GetAsync(c.Url + "/health");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
    }

    /// <summary>A query argument or JSON field of the wrong form: the error names it and what it must be — not
    /// ASP.NET's "Failed to bind parameter "Nullable&lt;long&gt; target"" nor System.Text.Json's name of our C# record.</summary>
    [Theory]
    [InlineData("POST", "/admin/move-leader?target=abc", null, "invalid_argument", "target must be a member id")]
    [InlineData("POST", "/admin/move-leader?target=-3", null, "invalid_argument", "target must be a member id")]
    [InlineData("POST", "/admin/alarms/disarm?member=x", null, "invalid_argument", "member must be a member id")]
    [InlineData("GET", "/admin/snapshot?reference_archived=maybe", null, "invalid_argument", "reference_archived must be true or false")]
    [InlineData("PUT", "/kv/args?prev_version=-1", "{\"value\":\"x\"}", "invalid_argument", "prev_version must be a version")]
    [InlineData("PUT", "/kv/args?prev_version=one", "{\"value\":\"x\"}", "invalid_argument", "prev_version must be a version")]
    [InlineData("PUT", "/kv/args", "{\"value\":\"x\",\"ttl\":\"ten\"}", "invalid_json", "$.ttl has the wrong type")]
    [InlineData("PUT", "/kv/args", "{\"value\":\"x\",\"encoding\":7}", "invalid_json", "$.encoding has the wrong type")]
    public async Task BadArgumentsAreNamedInTheError(string method, string path, string? body, string code, string says)
    {
        using var c = SharedNode.Get();
        using var req = new HttpRequestMessage(new HttpMethod(method), c.Url + path);
        if (body is not null)
        {
            req.Content = new StringContent(body, Encoding.UTF8, "application/json");
        }

        using var r = await c.Http.SendAsync(req);
        var text = await r.Content.ReadAsStringAsync();
        Assert.True((int)r.StatusCode == 400, text);
        var json = JsonDocument.Parse(text).RootElement;
        Assert.Equal(code, json.GetProperty("code").GetString());
        var error = json.GetProperty("error").GetString()!;
        Assert.Contains(says, error, StringComparison.Ordinal);
        Assert.DoesNotContain("Failed to bind", error, StringComparison.Ordinal);
        Assert.DoesNotContain("JsonBodies", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task InvalidUtf8OversizeKeyAndOversizeValueAreRejected()
    {
        using var c = SharedNode.Get();
        var badUtf8 = new ByteArrayContent([.. "{\"value\": \""u8, 0xC3, 0x28, .. "\"}"u8]);
        badUtf8.Headers.ContentType = new("application/json");
        using (var r = await c.Http.PutAsync(c.Url + "/kv/u", badUtf8))
        {
            Assert.Equal(400, (int)r.StatusCode);
        }

        using (var r = await c.Http.PutAsync(c.Url + "/kv/" + new string('k', 5000), Json("{\"value\":\"x\"}")))
        {
            Assert.Equal(413, (int)r.StatusCode);
        }

        var big = new ByteArrayContent(new byte[(8 << 20) + 1]);
        big.Headers.ContentType = new("application/octet-stream");
        using (var r = await c.Http.PutAsync(c.Url + "/kv/big", big))
        {
            Assert.Equal(413, (int)r.StatusCode);
            Assert.Equal("too_large", (await r.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString());
        }

        using (var r = await c.Http.PutAsync(c.Url + "/kv/cas?prev_version=999999", Json("{\"value\":\"x\"}")))
        {
            Assert.Equal(409, (int)r.StatusCode);
        }

        using var health = await c.Http.GetAsync(c.Url + "/health");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
    }
}
