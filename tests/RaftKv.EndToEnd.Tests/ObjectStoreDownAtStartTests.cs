namespace RaftKv.EndToEnd.Tests;

/// <summary>
/// A node whose object store does not answer at start serves its local data at once and says so in one line (the
/// bucket is created in the background once the store answers), and in <c>/health</c>'s <c>object_store</c> and the
/// <c>raftkv_object_store_reachable</c> gauge. Before, the start waited for the S3 SDK's retries
/// (~10 s) and logged the connection failure with a stack trace of forty frames.
/// </summary>
public sealed class ObjectStoreDownAtStartTests
{
    [Fact]
    public async Task TheNodeServesAndLogsOneLine()
    {
        var env = new Dictionary<string, string>
        {
            ["S3_ENDPOINT"] = $"http://127.0.0.1:{ServerProcess.FreePort()}", // nothing listens there
            ["S3_BUCKET"] = "down",
            ["S3_ACCESS_KEY"] = "a",
            ["S3_SECRET_KEY"] = "s",
        };
        using var c = new LocalCluster(1, env);
        var node = c.Nodes[0];
        var http = c.Http;
        c.StartAll();
        await c.WaitForLeaderAsync();
        await c.WaitReadyAsync();
        using (var put = await http.PutAsync(node.Http + "/kv/local", new StringContent("{\"value\":\"v\"}", System.Text.Encoding.UTF8, "application/json")))
        {
            Assert.True(put.IsSuccessStatusCode, await put.Content.ReadAsStringAsync());
        }

        Assert.Equal("v", System.Text.Json.JsonDocument.Parse(await http.GetStringAsync(node.Http + "/kv/local")).RootElement.GetProperty("value").GetString());

        // /health stays healthy (every member shares the store; only reads of archived tables need it) and says so once a
        // call to the store has failed (null = no call has ended yet: the first one gave up waiting at 2 s).
        var h = default(System.Text.Json.JsonElement);
        await Eventually.TrueAsync(
            async () =>
            {
                using var health = await http.GetAsync(node.Http + "/health");
                h = System.Text.Json.JsonDocument.Parse(await health.Content.ReadAsStringAsync()).RootElement;
                return h.GetProperty("object_store").GetProperty("reachable").ValueKind == System.Text.Json.JsonValueKind.False;
            },
            TimeSpan.FromSeconds(60),
            "/health's object_store says unreachable");
        Assert.Equal("true", h.GetProperty("health").GetString());
        Assert.Contains("create bucket failed", h.GetProperty("object_store").GetProperty("last_error").GetString(), StringComparison.Ordinal);
        Assert.Contains("raftkv_object_store_reachable 0", await http.GetStringAsync(node.Http + "/metrics"), StringComparison.Ordinal);

        var log = node.Log();
        Assert.Contains("Object store not reachable at start-up", log, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", log, StringComparison.Ordinal); // no stack trace
        Assert.Equal(0, await node.TerminateAsync(TimeSpan.FromSeconds(30))); // the background retry ends with the node
    }
}
