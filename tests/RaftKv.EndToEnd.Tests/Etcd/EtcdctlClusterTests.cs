using System.Text.Json;

namespace RaftKv.EndToEnd.Tests.Etcd;

/// <summary>etcdctl's cluster and maintenance commands against a real 3-node RaftKv.</summary>
[Collection(EtcdCollection.Name)]
public sealed class EtcdctlClusterTests(EtcdClusterFixture fixture)
{
    /// <summary>etcd's docs write endpoints as URLs; etcdctl 3.4 then sends the whole URL as the HTTP/2 <c>:authority</c>
    /// of its maintenance calls, which Kestrel refuses (PROTOCOL_ERROR) unless the client port fixes it
    /// (Hosting/ClientPorts/Http2AuthorityReader). Before that, each of these failed with RST_STREAM.</summary>
    [Fact]
    public async Task MaintenanceCommandsWorkWithUrlEndpoints()
    {
        var urls = string.Join(',', fixture.Cluster.Nodes.Select(n => "http://" + n.Grpc));
        var status = (await Etcdctl.RunAsync(urls, "endpoint", "status", "-w", "json")).Ok().Out;
        Assert.Equal(3, JsonDocument.Parse(status).RootElement.GetArrayLength());
        var cluster = (await Etcdctl.RunAsync("http://" + fixture.Node(1).Grpc, "endpoint", "status", "--cluster")).Ok().Out;
        Assert.Equal(3, cluster.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        var hashes = (await Etcdctl.RunAsync(urls, "endpoint", "hashkv")).Ok().Out;
        Assert.Equal(3, hashes.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        (await Etcdctl.RunAsync(urls, "alarm", "list")).Ok();
        Assert.Contains("Finished defragmenting", (await Etcdctl.RunAsync("http://" + fixture.Node(2).Grpc, "defrag")).Ok().Out, StringComparison.Ordinal);
        Assert.Equal("url/k\nv\n", (await Etcdctl.RunAsync(urls, "put", "url/k", "v") is var put && put.Code == 0 ? await Etcdctl.RunAsync(urls, "get", "url/k") : put).Ok().Out);
    }

    [Fact]
    public async Task MemberListShowsEveryMemberAndEveryMemberAgreesOnTheClusterId()
    {
        var clusterIds = new HashSet<ulong>();
        foreach (var node in fixture.Cluster.Nodes)
        {
            var json = (await Etcdctl.RunAsync(node.Grpc, "member", "list", "-w", "json")).Ok().Json;
            var header = json.GetProperty("header");
            clusterIds.Add(header.GetProperty("cluster_id").GetUInt64());
            Assert.Equal((ulong)node.NodeId, header.GetProperty("member_id").GetUInt64());
            Assert.True(header.GetProperty("raft_term").GetUInt64() > 0);
            var members = json.GetProperty("members").EnumerateArray().ToList();
            Assert.Equal([1UL, 2UL, 3UL], members.Select(m => m.GetProperty("ID").GetUInt64()).Order());
            foreach (var m in members)
            {
                var id = (int)m.GetProperty("ID").GetUInt64();
                var expected = fixture.Node(id);
                Assert.Equal($"raftkv-{id}", m.GetProperty("name").GetString());
                Assert.Equal([$"http://127.0.0.1:{expected.RaftPort}"], m.GetProperty("peerURLs").EnumerateArray().Select(u => u.GetString()));
                Assert.Equal([$"http://{expected.Grpc}"], m.GetProperty("clientURLs").EnumerateArray().Select(u => u.GetString()));
            }
        }

        Assert.Single(clusterIds);

        // The table form: "id, started, name, peer URLs, client URLs, is learner".
        var table = (await Etcdctl.RunAsync(fixture.Endpoints, "member", "list")).Ok();
        var lines = table.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, lines.Length);
        Assert.All(lines, l => Assert.Contains(", started, raftkv-", l));
        Assert.All(lines, l => Assert.EndsWith(", false", l.Trim()));
    }

    [Fact]
    public async Task EndpointStatusReportsVersionLeaderAndRaftStateOfEveryMember()
    {
        var json = (await Etcdctl.RunAsync(fixture.Endpoints, "endpoint", "status", "-w", "json")).Ok().Json;
        var statuses = json.EnumerateArray().Select(e => e.GetProperty("Status")).ToList();
        Assert.Equal(3, statuses.Count);
        var leaders = statuses.Select(s => s.GetProperty("leader").GetUInt64()).ToHashSet();
        var leader = Assert.Single(leaders);
        Assert.InRange(leader, 1UL, 3UL);
        foreach (var s in statuses)
        {
            Assert.Equal("3.5.0", s.GetProperty("version").GetString());
            Assert.True(s.GetProperty("raftTerm").GetUInt64() > 0);
            Assert.True(s.GetProperty("raftIndex").GetUInt64() > 0);
            Assert.True(s.TryGetProperty("errors", out var errors) is false || errors.GetArrayLength() == 0, s.ToString());
        }

        // The table form etcdctl users read: version and "is leader" columns.
        var table = (await Etcdctl.RunAsync(fixture.Endpoints, "endpoint", "status")).Ok().Out;
        Assert.Equal(3, table.Split('\n', StringSplitOptions.RemoveEmptyEntries).Count(l => l.Contains("3.5.0", StringComparison.Ordinal)));
        Assert.Single(table.Split('\n'), l => l.Contains(", true,", StringComparison.Ordinal));
    }

    [Fact]
    public async Task EtcdPortServesTheSameApi()
    {
        var viaEtcdPort = (await Etcdctl.RunAsync($"127.0.0.1:{fixture.EtcdPort}", "member", "list", "-w", "json")).Ok().Json;
        var viaGrpcPort = (await Etcdctl.RunAsync(fixture.Node(1).Grpc, "member", "list", "-w", "json")).Ok().Json;
        Assert.Equal(viaGrpcPort.GetProperty("header").GetProperty("cluster_id").GetUInt64(), viaEtcdPort.GetProperty("header").GetProperty("cluster_id").GetUInt64());
        Assert.Equal(1UL, viaEtcdPort.GetProperty("header").GetProperty("member_id").GetUInt64());
        Assert.Equal(3, viaEtcdPort.GetProperty("members").GetArrayLength());
    }

    [Fact]
    public async Task AlarmListIsEmptyAndUnimplementedCallsSaySo()
    {
        var alarms = (await Etcdctl.RunAsync(fixture.Endpoints, "alarm", "list")).Ok();
        Assert.Equal(string.Empty, alarms.Out.Trim());

        var disarm = (await Etcdctl.RunAsync(fixture.Node(1).Grpc, "alarm", "disarm")).Ok(); // nothing to disarm
        Assert.Equal(string.Empty, disarm.Out.Trim());

        var file = Path.Combine(Path.GetTempPath(), "raftkv-etcd-snap-" + Guid.NewGuid().ToString("N"));
        try
        {
            (await Etcdctl.RunAsync(fixture.Node(1).Grpc, "snapshot", "save", file)).Ok(); // served now (Backup/SnapshotRestoreTests restores it)
            Assert.Equal(32, new FileInfo(file).Length % 512);
        }
        finally
        {
            File.Delete(file);
        }

        // Every node is still up and answering.
        Assert.Equal(3, (await Etcdctl.RunAsync(fixture.Endpoints, "endpoint", "status", "-w", "json")).Ok().Json.GetArrayLength());
    }

    [Fact]
    public async Task MoveLeaderHandsLeadershipToTheNamedMember()
    {
        var before = LeaderOf((await Etcdctl.RunAsync(fixture.Endpoints, "endpoint", "status", "-w", "json")).Ok().Json);
        var target = before % 3 + 1;
        var moved = (await Etcdctl.RunAsync(fixture.Endpoints, "move-leader", target.ToString("x", System.Globalization.CultureInfo.InvariantCulture))).Ok();
        Assert.Contains($"Leadership transferred from {before:x} to {target:x}", moved.Out, StringComparison.Ordinal);
        Assert.Equal(target, LeaderOf((await Etcdctl.RunAsync(fixture.Endpoints, "endpoint", "status", "-w", "json")).Ok().Json));
        await PutAfterLeaderChangeAsync("after-move-leader");

        // Back over HTTP, asked of a member that does not lead (forwarded to the leader).
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
        var follower = fixture.Node((int)(target % 3 + 1));
        using (var back = await http.PostAsync($"{follower.Http}/admin/move-leader?target={before}", null))
        {
            Assert.True(back.IsSuccessStatusCode, await back.Content.ReadAsStringAsync());
        }

        Assert.Equal(before, LeaderOf((await Etcdctl.RunAsync(fixture.Endpoints, "endpoint", "status", "-w", "json")).Ok().Json));
        // Without a target: 400 (once the follower knows the new leader; until then it answers 503 "retry").
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            using var missing = await http.PostAsync($"{follower.Http}/admin/move-leader", null);
            if (missing.StatusCode != System.Net.HttpStatusCode.ServiceUnavailable || DateTime.UtcNow > deadline)
            {
                Assert.True(missing.StatusCode == System.Net.HttpStatusCode.BadRequest, await missing.Content.ReadAsStringAsync());
                break;
            }

            await Task.Delay(RaftKv.TestSupport.Poll.Interval);
        }

        // A member id that is not in the cluster: etcd's error.
        var bad = await Etcdctl.RunAsync(fixture.Endpoints, "move-leader", "abcdef");
        Assert.NotEqual(0, bad.Code);
        Assert.Contains("etcdserver: bad leader transferee", bad.Err, StringComparison.Ordinal);
    }

    /// <summary>A put right after a leader change: a follower that has not heard from the new leader yet answers
    /// "no leader" for a moment, which etcd clients retry; so does this, until a deadline.</summary>
    private async Task PutAfterLeaderChangeAsync(string key)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            var put = await Etcdctl.RunAsync(fixture.Endpoints, "put", key, "1");
            if (put.Code == 0 || !put.Err.Contains("etcdserver: no leader", StringComparison.Ordinal) || DateTime.UtcNow > deadline)
            {
                put.Ok();
                return;
            }

            await Task.Delay(RaftKv.TestSupport.Poll.Interval);
        }
    }

    private static ulong LeaderOf(JsonElement status)
        => status.EnumerateArray().Select(e => e.GetProperty("Status").GetProperty("leader").GetUInt64()).Distinct().Single();

    internal static JsonElement Header(JsonElement json) => json.GetProperty("header");
}
