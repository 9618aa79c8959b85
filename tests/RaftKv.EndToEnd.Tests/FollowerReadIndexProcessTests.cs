using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Xunit.Abstractions;

namespace RaftKv.EndToEnd.Tests;

/// <summary>
/// Linearizable reads on followers through the leader's read index (internal <c>Cluster/ReadIndex</c>,
/// KvNode.FollowerReadIndex.cs) on one real 3-process cluster: a follower read sees the write the leader acknowledged
/// just before it (alone and as a batch of concurrent reads), the leader answers the followers' requests, and a
/// follower whose leader is frozen (SIGSTOP) answers a read that began after a newer leader acknowledged a write with
/// that write — never with an index from the frozen leader — by falling back once its request times out.
/// </summary>
public sealed class FollowerReadIndexProcessTests(ITestOutputHelper output)
{
    private static StringContent Json(string value) => new($"{{\"value\":\"{value}\"}}", Encoding.UTF8, "application/json");

    private static async Task PutAsync(HttpClient http, ServerProcess node, string key, string value)
    {
        using var put = await http.PutAsync(node.Http + "/kv/" + key, Json(value));
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
    }

    /// <summary>A linearizable GET (the HTTP default) on <paramref name="node"/>: the value, or the failure status.</summary>
    private static async Task<string> ReadAsync(HttpClient http, ServerProcess node, string key)
    {
        using var r = await http.GetAsync(node.Http + "/kv/" + key);
        return r.StatusCode == HttpStatusCode.OK
            ? (await r.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("value").GetString() ?? string.Empty
            : $"HTTP {(int)r.StatusCode}: {await r.Content.ReadAsStringAsync()}";
    }

    private static async Task<double> MetricAsync(HttpClient http, ServerProcess node, string name)
        => PrometheusText.Parse(await http.GetStringAsync(node.Http + "/metrics")).Value(name) ?? 0;

    [Fact]
    public async Task AFollowerReadSeesTheWriteAcknowledgedBeforeItAndNeverAFrozenLeadersIndex()
    {
        using var c = new LocalCluster(3);
        c.StartAll();
        var leader = await c.WaitForLeaderAsync();
        await c.WaitReadyAsync();
        var followers = c.Nodes.Where(n => n != leader).ToList();

        // Acknowledged by the leader, then read on a follower: each read sees the write before it.
        for (var i = 0; i < 40; i++)
        {
            await PutAsync(c.Http, leader, "fr", "v" + i);
            Assert.Equal("v" + i, await ReadAsync(c.Http, followers[i % 2], "fr"));
        }

        // A batch of concurrent reads on each follower after one acknowledged write: every one sees it.
        await PutAsync(c.Http, leader, "fr", "batch");
        var reads = await Task.WhenAll(Enumerable.Range(0, 32).Select(i => ReadAsync(c.Http, followers[i % 2], "fr")));
        Assert.All(reads, r => Assert.Equal("batch", r));

        foreach (var f in followers)
        {
            Assert.True(await MetricAsync(c.Http, f, "raftkv_read_follower_index_reads_total") > 0, $"node {f.NodeId} never read with the leader's read index");
        }

        Assert.True(await MetricAsync(c.Http, leader, "raftkv_read_index_served_total") > 0, "the leader never answered a read-index request");

        // Freeze the leader. A read on a follower now asks the frozen leader (its request hangs: the process is stopped).
        var follower = followers[0];
        var fallbacks = await MetricAsync(c.Http, follower, "raftkv_read_follower_index_fallbacks_total");
        using var quick = new HttpClient { Timeout = TimeSpan.FromSeconds(3) };
        await leader.PauseAsync();
        try
        {
            var overlapping = ReadAsync(c.Http, follower, "fr"); // concurrent with the write below: either value, or an error
            var frozenAt = System.Diagnostics.Stopwatch.StartNew();

            // The other two elect a leader and commit a write through it.
            string? acknowledgedAt = null;
            await Eventually.TrueAsync(
                async () =>
                {
                    foreach (var n in followers)
                    {
                        try
                        {
                            using var put = await quick.PutAsync(n.Http + "/kv/fr", Json("after"));
                            if (put.StatusCode == HttpStatusCode.OK)
                            {
                                acknowledgedAt = n.Http;
                                return true;
                            }
                        }
                        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                        {
                        }
                    }

                    return false;
                },
                TimeSpan.FromSeconds(45),
                "no write committed on the two members left while the leader was frozen");
            output.WriteLine($"'after' acknowledged through {acknowledgedAt} {frozenAt.Elapsed.TotalSeconds:F1} s after node {leader.NodeId} froze");

            // Began after the acknowledgement: must see it. One read, no retry: it may wait for the frozen leader's request
            // to time out, then asks the new leader (or DotNext's barrier), all within the node's operation timeout.
            Assert.Equal("after", await ReadAsync(c.Http, follower, "fr"));
            output.WriteLine($"the overlapping read answered '{await overlapping}'");
            Assert.True(await MetricAsync(c.Http, follower, "raftkv_read_follower_index_fallbacks_total") > fallbacks || (await overlapping).StartsWith("HTTP", StringComparison.Ordinal),
                "the read sent to the frozen leader neither fell back nor failed");
        }
        finally
        {
            await leader.ResumeAsync();
        }

        // The old leader rejoins; a read on it and on both others sees the last write.
        await Eventually.TrueAsync(
            async () => (await Task.WhenAll(c.Nodes.Select(n => ReadAsync(quick, n, "fr")))).All(v => v == "after"),
            TimeSpan.FromSeconds(30),
            "a member never served the last write after the old leader resumed");
    }
}
