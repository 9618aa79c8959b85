using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using RaftKv.Client;
using RaftKv.Protocol.V1;

namespace RaftKv.EndToEnd.Tests;

public sealed class ClusterProcessTests
{
    private static byte[] B(string s) => Encoding.UTF8.GetBytes(s);

    [Fact]
    public async Task WriteThroughFollowerOverHttpAndReadFromEveryNode()
    {
        using var c = new LocalCluster(3);
        c.StartAll();
        var leader = await c.WaitForLeaderAsync();
        await c.WaitReadyAsync();
        var follower = c.Nodes.First(n => n != leader);
        using (var put = await c.Http.PutAsync(follower.Http + "/kv/fwd", new StringContent("{\"value\":\"via-follower\"}", Encoding.UTF8, "application/json")))
        {
            Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        }

        foreach (var n in c.Nodes)
        {
            var got = await c.Http.GetFromJsonAsync<JsonElement>(n.Http + "/kv/fwd");
            Assert.Equal("via-follower", got.GetProperty("value").GetString());
        }

        using (var del = await c.Http.DeleteAsync(follower.Http + "/kv/fwd"))
        {
            Assert.Equal(HttpStatusCode.OK, del.StatusCode);
        }

        var cluster = await c.Http.GetFromJsonAsync<JsonElement>(follower.Http + "/cluster");
        Assert.Equal(3, cluster.GetProperty("members").GetArrayLength());

        // The leader measures each follower's lag (commit index − follower applied index): once the
        // followers have applied everything /cluster reports 0; /metrics exports the gauge per follower.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var view = await c.Http.GetFromJsonAsync<JsonElement>(leader.Http + "/cluster");
            var lags = view.GetProperty("members").EnumerateArray()
                .Where(m => !m.GetProperty("local").GetBoolean())
                .Select(m => m.GetProperty("lag"))
                .ToList();
            if (lags.Count == 2 && lags.All(l => l.ValueKind == JsonValueKind.Number && l.GetInt64() == 0))
            {
                break;
            }

            Assert.True(DateTime.UtcNow < deadline, "follower lag not reported as 0: " + view);
            await Task.Delay(Poll.Interval);
        }

        var metrics = await c.Http.GetStringAsync(leader.Http + "/metrics");
        Assert.Matches("raftkv_follower_lag_entries\\{member=\"" + follower.NodeId + "\"\\} [0-9]+", metrics);
    }

    [Fact]
    public async Task GrpcClientRoundTripsAndSurvivesLeaderKill()
    {
        using var c = new LocalCluster(3);
        c.StartAll();
        var leader = await c.WaitForLeaderAsync();
        await c.WaitReadyAsync();
        using var client = new RaftKvClient(c.Nodes.Select(n => n.Grpc));

        var put = await client.PutAsync(B("g/1"), B("one"));
        Assert.True(put.Version > 0);
        await client.PutAsync(B("g/2"), B("two"));
        Assert.Equal("one", (await client.GetAsync(B("g/1")))!.Value.ToStringUtf8());
        var range = await client.RangeAsync(B("g/"), prefix: true, limit: 1);
        Assert.Single(range.Kvs);
        Assert.True(range.More);
        var all = new List<KeyValue>();
        await foreach (var kv in client.ScanAsync(B("g/"), prefix: true))
        {
            all.Add(kv);
        }

        Assert.Equal(2, all.Count);
        Assert.True(await client.CompareAndSetAsync(B("g/1"), B("one"), B("uno")));
        Assert.False(await client.CompareAndSetAsync(B("g/1"), B("one"), B("eins")));

        using var watchCts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var watched = Task.Run(async () =>
        {
            await foreach (var e in client.WatchAsync(B("w/"), prefix: true, startVersion: put.Version, cancellationToken: watchCts.Token))
            {
                if (e.Kv.Key.ToStringUtf8() == "w/x")
                {
                    return e;
                }
            }

            return null;
        });
        await client.PutAsync(B("w/x"), B("watched"));
        var ev = await watched;
        Assert.Equal("watched", ev!.Kv.Value.ToStringUtf8());

        var deleted = await client.DeleteAsync(B("g/2"));
        Assert.Equal(1UL, deleted.Deleted);
        var status = await client.StatusAsync();
        Assert.Equal(3, (await client.MembersAsync()).Members.Count);
        Assert.NotEqual(0UL, status.LeaderId);

        // kill -9 the leader: writes resume through the client once a new leader is elected.
        leader.Kill();
        for (var i = 0; i < 20; i++)
        {
            await client.PutAsync(B($"after/{i}"), B("x"));
        }

        var newLeader = await c.WaitForLeaderAsync();
        Assert.NotEqual(leader.NodeId, newLeader.NodeId);

        // The killed node restarts and catches up.
        leader.Start();
        await c.WaitReadyAsync();
        using var direct = new RaftKvClient([leader.Grpc]);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while ((await direct.GetAsync(B("after/19"), serializable: true)) is null)
        {
            Assert.True(DateTime.UtcNow < deadline, "restarted node did not catch up; log:\n" + leader.Log());
            await Task.Delay(Poll.Interval);
        }

        Assert.Equal("uno", (await direct.GetAsync(B("g/1"), serializable: true))!.Value.ToStringUtf8());
    }
}
