using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using RaftKv.EndToEnd.Tests.Etcd;
using RaftKv.Replication.Tests;

namespace RaftKv.EndToEnd.Tests;

/// <summary>
/// The corruption check end to end on three raftkv processes (docs/operations.md, "Corruption check"):
/// a value changed in one member's SSTable behind a valid block checksum is found by the member's
/// start-up check; <c>/health</c> turns 503 on every member naming it, <c>/stats</c> and
/// <c>/metrics</c> show it, a check through a follower is forwarded to the leader, and disarming
/// makes every member healthy again.
/// </summary>
public sealed class CorruptionCheckProcessTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task ChangedReplicaRaisesCorruptInHealthStatsAndMetricsUntilDisarmed()
    {
        using var c = new LocalCluster(3);
        c.StartAll();
        var leader = await c.WaitForLeaderAsync();
        await c.WaitReadyAsync();
        foreach (var n in c.Nodes)
        {
            using var health = await c.Http.GetAsync(n.Http + "/health");
            Assert.Equal(HttpStatusCode.OK, health.StatusCode);
            Assert.Contains("raftkv_corruption_alarm 0", await c.Http.GetStringAsync(n.Http + "/metrics"), StringComparison.Ordinal);
        }

        for (var i = 0; i < 40; i++)
        {
            var body = JsonSerializer.Serialize(new { value = $"value-{i:D3}-" + new string('x', 1000) });
            using var put = await c.Http.PutAsync($"{leader.Http}/kv/k{i:D3}", new StringContent(body, Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        }

        var victim = c.Nodes.First(n => n != leader);
        await WaitAsync(async () => (await c.Http.GetAsync(victim.Http + "/kv/k039?consistency=serializable")).StatusCode == HttpStatusCode.OK, "the victim has every key");
        Assert.Equal(0, await victim.TerminateAsync(TimeSpan.FromSeconds(30))); // flushes its memtable into an SSTable

        var (table, offset) = SstEditor.Find(Path.Combine(victim.DataDir, "lsm"), Encoding.UTF8.GetBytes("value-017-"));
        SstEditor.FlipKeepingChecksum(table, offset + 6, (byte)'9');
        victim.Start();

        // The victim's start-up check (it asks the leader) names it; the alarm is replicated to every member.
        foreach (var n in c.Nodes)
        {
            // Wait for the alarm itself: a member that has just restarted is also 503 until it knows a leader.
            await WaitAsync(async () => (await c.Http.GetStringAsync(n.Http + "/metrics")).Contains("raftkv_corruption_alarm 1", StringComparison.Ordinal), $"node {n.NodeId} has the alarm");
            // ... and for /health to name it: while the member knows no leader yet it answers 503 "RAFT NO LEADER" first.
            await WaitAsync(async () => (await (await c.Http.GetAsync(n.Http + "/health")).Content.ReadAsStringAsync()).Contains("CORRUPT", StringComparison.Ordinal), $"node {n.NodeId}'s /health names the alarm");
            using var health = await c.Http.GetAsync(n.Http + "/health");
            var h = await health.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal("unhealthy", h.GetProperty("status").GetString());
            Assert.Contains("CORRUPT", h.GetProperty("reason").GetString(), StringComparison.Ordinal);
            var alarm = Assert.Single(h.GetProperty("alarms").EnumerateArray().ToList());
            Assert.Equal("CORRUPT", alarm.GetProperty("alarm").GetString());
            Assert.Equal(victim.NodeId, alarm.GetProperty("member_id").GetInt64());
            Assert.Contains("raftkv_corruption_alarm 1", await c.Http.GetStringAsync(n.Http + "/metrics"), StringComparison.Ordinal);
            var stats = await c.Http.GetFromJsonAsync<JsonElement>(n.Http + "/stats");
            Assert.Equal(victim.NodeId, stats.GetProperty("alarms")[0].GetProperty("member_id").GetInt64());
            using var live = await c.Http.GetAsync(n.Http + "/health/live");
            Assert.Equal(HttpStatusCode.OK, live.StatusCode);
            var etcdList = (await Etcdctl.RunAsync(n.Grpc, "alarm", "list")).Ok().Out; // etcd's Maintenance.Alarm shows the same replicated alarm
            Assert.Contains($"memberID:{victim.NodeId} alarm:CORRUPT", etcdList, StringComparison.Ordinal);
        }

        // A check asked of a follower runs on the leader (forwarded) and names the victim again.
        var follower = c.Nodes.First(n => n != leader && n != victim);
        using (var check = await c.Http.PostAsync(follower.Http + "/admin/corruption-check", null))
        {
            var r = await check.Content.ReadFromJsonAsync<JsonElement>();
            Assert.True(check.StatusCode == HttpStatusCode.OK, r.ToString());
            Assert.Equal("mismatch", r.GetProperty("outcome").GetString());
            Assert.Equal([victim.NodeId], r.GetProperty("corrupt").EnumerateArray().Select(e => e.GetInt64()).ToList());
            Assert.Equal(3, r.GetProperty("hashes").GetArrayLength());
        }

        var leaderNow = await c.WaitForLeaderAsync();
        var leaderStats = await c.Http.GetFromJsonAsync<JsonElement>(leaderNow.Http + "/stats");
        Assert.Equal("mismatch", leaderStats.GetProperty("corruption_check").GetProperty("last").GetProperty("outcome").GetString());
        Assert.Contains("raftkv_corruption_checks_total{outcome=\"mismatch\"}", await c.Http.GetStringAsync(leaderNow.Http + "/metrics"), StringComparison.Ordinal);
        Assert.Contains($"CORRUPT alarm raised for member {victim.NodeId}", string.Concat(c.Nodes.Select(n => n.Log())), StringComparison.Ordinal);

        // Disarm with etcdctl through a follower (Maintenance.Alarm DEACTIVATE, forwarded to the leader):
        // every member is healthy again.
        var disarmed = (await Etcdctl.RunAsync(follower.Grpc, "alarm", "disarm")).Ok().Out;
        Assert.Contains($"memberID:{victim.NodeId} alarm:CORRUPT", disarmed, StringComparison.Ordinal);

        foreach (var n in c.Nodes)
        {
            await WaitAsync(async () => (await c.Http.GetAsync(n.Http + "/health")).StatusCode == HttpStatusCode.OK, $"node {n.NodeId}'s /health is ok again");
            Assert.Contains("raftkv_corruption_alarm 0", await c.Http.GetStringAsync(n.Http + "/metrics"), StringComparison.Ordinal);
        }

        // The HTTP route disarms too (nothing is left: an empty list); a bad alarm name is a 400.
        using (var disarm = await c.Http.PostAsync($"{follower.Http}/admin/alarms/disarm?alarm=CORRUPT&member={victim.NodeId}", null))
        {
            Assert.Equal(HttpStatusCode.OK, disarm.StatusCode);
            Assert.Equal(0, (await disarm.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("alarms").GetArrayLength());
        }

        using (var bad = await c.Http.PostAsync($"{follower.Http}/admin/alarms/disarm?alarm=BOGUS", null))
        {
            Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        }
    }

    private static async Task WaitAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow + Deadline;
        while (true)
        {
            try
            {
                if (await condition())
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // restarting
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"timed out after {Deadline.TotalSeconds:F0}s waiting until {what}");
            }

            await Task.Delay(Poll.Interval);
        }
    }
}
