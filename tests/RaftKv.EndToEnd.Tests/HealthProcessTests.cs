using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace RaftKv.EndToEnd.Tests;

/// <summary>etcd's <c>GET /health</c> on real processes: 200 <c>"health":"true"</c> on every member of a healthy
/// cluster; a member left without a quorum answers 503 <c>"health":"false"</c> with the reason (no leader, or the
/// linearizable read that did not complete), also with <c>?serializable=true</c> while it knows no leader; and it
/// is healthy again once a quorum is back. <c>/health/live</c> stays 200 throughout.</summary>
public sealed class HealthProcessTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task AMemberWithoutAQuorumIsUnhealthyUntilTheQuorumIsBack()
    {
        using var c = new LocalCluster(3);
        c.StartAll();
        var leader = await c.WaitForLeaderAsync();
        await c.WaitReadyAsync();
        foreach (var n in c.Nodes)
        {
            var (status, body) = await HealthAsync(c, n, "/health");
            Assert.True(status == HttpStatusCode.OK, $"node {n.NodeId}: {status} {body}");
            Assert.Equal("true", body.GetProperty("health").GetString());
        }

        var survivor = c.Nodes.First(n => n != leader);
        foreach (var n in c.Nodes.Where(n => n != survivor))
        {
            n.Kill();
        }

        JsonElement unhealthy = default;
        await Eventually.TrueAsync(
            async () =>
            {
                var (status, body) = await HealthAsync(c, survivor, "/health");
                unhealthy = body;
                return status == HttpStatusCode.ServiceUnavailable;
            },
            Deadline,
            "the member left alone answers /health 503");
        Assert.Equal("false", unhealthy.GetProperty("health").GetString());
        var reason = unhealthy.GetProperty("reason").GetString()!;
        Assert.True(reason.StartsWith("RAFT NO LEADER", StringComparison.Ordinal) || reason.StartsWith("QGET ERROR", StringComparison.Ordinal), reason);

        // Once the member has given up on the old leader, even the serializable check (no read barrier) fails.
        // (Until then it may still name the killed leader: 200 without a reason.)
        await Eventually.TrueAsync(
            async () => (await HealthAsync(c, survivor, "/health?serializable=true")).Body.TryGetProperty("reason", out var r) && r.GetString() == "RAFT NO LEADER",
            Deadline,
            "the member left alone reports RAFT NO LEADER");
        Assert.Equal(HttpStatusCode.OK, (await HealthAsync(c, survivor, "/health/live")).Status);

        var back = c.Nodes.First(n => n != survivor);
        back.Start();
        await Eventually.TrueAsync(
            async () => (await HealthAsync(c, survivor, "/health")).Status == HttpStatusCode.OK,
            Deadline,
            "the member is healthy again with a quorum");
        await Eventually.TrueAsync(
            async () => (await HealthAsync(c, back, "/health")).Body.GetProperty("health").GetString() == "true",
            Deadline,
            "the restarted member is healthy");
    }

    private static async Task<(HttpStatusCode Status, JsonElement Body)> HealthAsync(LocalCluster c, ServerProcess n, string path)
    {
        using var r = await c.Http.GetAsync(n.Http + path);
        return (r.StatusCode, await r.Content.ReadFromJsonAsync<JsonElement>());
    }
}
