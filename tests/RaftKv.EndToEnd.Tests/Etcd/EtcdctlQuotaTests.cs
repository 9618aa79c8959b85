using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Grpc.Core;
using RaftKv.Client;
using static RaftKv.EndToEnd.Tests.Etcd.EtcdJson;

namespace RaftKv.EndToEnd.Tests.Etcd;

/// <summary>
/// QUOTA_BACKEND_BYTES end to end, the etcd operator's way (docs/operations.md, "Space quota"): a node with a
/// small quota is filled with history through etcdctl until etcd's "database space exceeded"; `etcdctl alarm
/// list` shows NOSPACE; every front door refuses writes with its own form of the error (etcd RESOURCE_EXHAUSTED,
/// HTTP 507, native RESOURCE_EXHAUSTED) while reads and deletes work; `etcdctl compact`, `defrag` and
/// `alarm disarm` bring writes back.
/// </summary>
public sealed class EtcdctlQuotaTests
{
    private const string NoSpace = "etcdserver: mvcc: database space exceeded";

    [Fact]
    public async Task PutUntilSpaceExceededThenCompactDefragDisarmRestoresWrites()
    {
        using var c = new LocalCluster(1, new Dictionary<string, string> { ["QUOTA_BACKEND_BYTES"] = (256 << 10).ToString(CultureInfo.InvariantCulture) });
        c.StartAll();
        var node = await c.WaitForLeaderAsync();
        await c.WaitReadyAsync();
        var ep = node.Grpc;

        // The same key over and over: its history passes the quota.
        var value = new string('q', 16 << 10);
        EtcdctlResult? refused = null;
        var puts = 0;
        for (var i = 0; i < 200 && refused is null; i++)
        {
            var put = await Etcdctl.RunAsync(ep, "put", "quota/k", $"{i:D4}{value}");
            if (put.Code == 0)
            {
                puts++;
            }
            else
            {
                refused = put;
            }
        }

        Assert.NotNull(refused);
        Assert.Contains(NoSpace, refused!.Err, StringComparison.Ordinal);
        Assert.True(puts > 0);
        var alarms = (await Etcdctl.RunAsync(ep, "alarm", "list")).Ok().Out;
        Assert.Contains($"memberID:{node.NodeId} alarm:NOSPACE", alarms, StringComparison.Ordinal);
        var metrics = await c.Http.GetStringAsync(node.Http + "/metrics");
        Assert.Contains("raftkv_nospace_alarm 1", metrics, StringComparison.Ordinal);
        Assert.Contains("raftkv_space_problem 1", metrics, StringComparison.Ordinal);
        Assert.Contains("raftkv_quota_backend_bytes 262144", metrics, StringComparison.Ordinal);

        // Every front door refuses writes; reads and deletes work.
        Assert.Contains(NoSpace, (await Etcdctl.RunAsync(ep, "put", "quota/other", "x")).Err, StringComparison.Ordinal);
        Assert.Contains(NoSpace, (await Etcdctl.RunAsync(ep, "lease", "grant", "60")).Err, StringComparison.Ordinal);
        using (var http = await c.Http.PutAsync($"{node.Http}/kv/quota/http", new StringContent("{\"value\":\"x\"}", Encoding.UTF8, "application/json")))
        {
            Assert.Equal(507, (int)http.StatusCode);
            var body = await http.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal("no_space", body.GetProperty("code").GetString());
            Assert.Contains("database space exceeded", body.GetProperty("error").GetString(), StringComparison.Ordinal);
        }

        using (var native = new RaftKvClient([ep], new RaftKvClientOptions { RetryBudget = TimeSpan.Zero }))
        {
            var e = await Assert.ThrowsAsync<RpcException>(() => native.PutAsync(Encoding.UTF8.GetBytes("quota/native"), [1]));
            Assert.Equal(StatusCode.ResourceExhausted, e.StatusCode);
        }

        Assert.Equal($"quota/k\n{puts - 1:D4}{value}\n", (await Etcdctl.RunAsync(ep, "get", "quota/k")).Ok().Out);
        var status = (await Etcdctl.RunAsync(ep, "endpoint", "status", "-w", "json")).Ok().Out;
        Assert.True(status.Contains("NOSPACE", StringComparison.Ordinal), status);
        var deleted = (await Etcdctl.RunAsync(ep, "del", "quota/k", "-w", "json")).Ok().Json;
        Assert.Equal(1, Long(deleted, "deleted"));

        // etcd's recovery: compact to the current revision, defragment, disarm.
        var revision = Revision(deleted);
        (await Etcdctl.RunAsync(ep, "compact", revision.ToString(CultureInfo.InvariantCulture))).Ok();
        (await Etcdctl.RunAsync(ep, "defrag")).Ok();
        (await Etcdctl.RunAsync(ep, "alarm", "disarm")).Ok();
        Assert.Equal(string.Empty, (await Etcdctl.RunAsync(ep, "alarm", "list")).Ok().Out.Trim());
        (await Etcdctl.RunAsync(ep, "put", "quota/after", "works")).Ok();
        Assert.Contains("raftkv_nospace_alarm 0", await c.Http.GetStringAsync(node.Http + "/metrics"), StringComparison.Ordinal);
        Assert.Equal("quota/after\nworks\n", (await Etcdctl.RunAsync(ep, "get", "quota/after")).Ok().Out);
        using var health = await c.Http.GetAsync(node.Http + "/health");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
    }
}
