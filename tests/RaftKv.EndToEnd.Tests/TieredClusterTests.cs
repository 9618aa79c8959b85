using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using RaftKv.Tiering;
using RaftKv.Tiering.Tests;

namespace RaftKv.EndToEnd.Tests;

[CollectionDefinition("rgw-e2e")]
public sealed class RgwE2eCollection : ICollectionFixture<RgwFixture>;

/// <summary>Three raftkv processes archiving to a real S3 server (Ceph RGW), read back from every node.</summary>
[Collection("rgw-e2e")]
public sealed class TieredClusterTests(RgwFixture rgw)
{
    [Fact]
    public async Task ArchivedDataIsServedByEveryNodeFromObjectStorage()
    {
        var bucket = ArchivingCluster.NewBucket();
        using var c = await ArchivingCluster.StartAsync(rgw, bucket, 3);
        var leader = await c.WaitForLeaderAsync();
        for (var i = 0; i < 50; i++)
        {
            using var put = await c.Http.PutAsync($"{leader.Http}/kv/cold/{i:D3}", new StringContent($"{{\"value\":\"v{i}\"}}", Encoding.UTF8, "application/json"));
            put.EnsureSuccessStatusCode();
        }

        foreach (var n in c.Nodes)
        {
            // Wait until the node has everything, then flush and archive on it.
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
            while (true)
            {
                using var r = await c.Http.GetAsync($"{n.Http}/kv/cold/049?consistency=serializable");
                if (r.IsSuccessStatusCode)
                {
                    break;
                }

                Assert.True(DateTime.UtcNow < deadline, $"node {n.NodeId} never got the data");
                await Task.Delay(Poll.Interval);
            }

            (await c.Http.PostAsync(n.Http + "/admin/flush", null)).EnsureSuccessStatusCode();
            using var migrate = await c.Http.PostAsync(n.Http + "/admin/migrate", null);
            Assert.True(migrate.IsSuccessStatusCode, await migrate.Content.ReadAsStringAsync());
        }

        foreach (var n in c.Nodes)
        {
            var got = await c.Http.GetFromJsonAsync<JsonElement>($"{n.Http}/kv/cold/017");
            Assert.Equal("v17", got.GetProperty("value").GetString());
            Assert.Equal("object", got.GetProperty("tier").GetString());
            var stats = await c.Http.GetFromJsonAsync<JsonElement>(n.Http + "/stats");
            Assert.True(stats.GetProperty("migrations_completed").GetInt64() >= 1);
            Assert.True(stats.GetProperty("object_size_bytes").GetInt64() > 0);
            Assert.True(stats.GetProperty("object_read_requests").GetInt64() >= 1, stats.ToString()); // the get above read S3 ...
            Assert.True(stats.GetProperty("cache_promotions").GetInt64() >= 1, stats.ToString()); // ... and kept the block
            Assert.True(stats.GetProperty("cache_capacity_bytes").GetInt64() > 0, stats.ToString());
            var metrics = PrometheusText.Parse(await c.Http.GetStringAsync(n.Http + "/metrics"));
            Assert.True(metrics.Value("raftkv_tiering_migrations_total") >= 1, "raftkv_tiering_migrations_total\n" + metrics.Text);
            Assert.True(metrics.Value("raftkv_tiering_uploaded_bytes_total") > 0, "raftkv_tiering_uploaded_bytes_total");
            Assert.True(metrics.Value("raftkv_tier_bytes", "tier=object") > 0, "raftkv_tier_bytes{tier=object}");
        }

        using var s3check = new S3ObjectStore(rgw.Options(bucket));
        foreach (var n in c.Nodes)
        {
            // Each node archives under its own prefix: nodes/{NODE_ID}/{its data directory's archive id}/sst/.
            var archiveId = (await File.ReadAllTextAsync(Path.Combine(n.DataDir, "archive-id"))).Trim();
            Assert.Matches("^[0-9a-f]{16}$", archiveId);
            var objects = await s3check.ListAsync($"nodes/{n.NodeId}/");
            Assert.NotEmpty(objects);
            Assert.All(objects, o => Assert.StartsWith($"nodes/{n.NodeId}/{archiveId}/sst/", o.Key, StringComparison.Ordinal));
        }
    }

    /// <summary>Two clusters on one bucket whose members have the same NODE_ID (the documented single-node and
    /// 3-node set-ups all number their members 1, 2, 3; a cluster restored from a backup keeps its ids): each
    /// archives under its own data directory's prefix, so neither overwrites the other's tables (same table ids)
    /// nor could reconcile them away as orphans. Before the archive id, the second cluster's upload of table N
    /// replaced the first's object of the same name, and the first then served the second's values.</summary>
    [Fact]
    public async Task TwoClustersSharingABucketKeepTheirOwnArchivedTables()
    {
        var bucket = ArchivingCluster.NewBucket();
        using var a = await ArchivingCluster.StartAsync(rgw, bucket, 1);
        using var b = await ArchivingCluster.StartAsync(rgw, bucket, 1);
        foreach (var (c, name) in new[] { (a, "a"), (b, "b") })
        {
            var n = c.Nodes[0];
            Assert.Equal(1, n.NodeId);
            for (var i = 0; i < 20; i++)
            {
                using var put = await c.Http.PutAsync($"{n.Http}/kv/shared/{i:D3}", new StringContent($"{{\"value\":\"{name}{i}\"}}", Encoding.UTF8, "application/json"));
                put.EnsureSuccessStatusCode();
            }

            (await c.Http.PostAsync(n.Http + "/admin/flush", null)).EnsureSuccessStatusCode();
            using var migrate = await c.Http.PostAsync(n.Http + "/admin/migrate", null);
            Assert.True(migrate.IsSuccessStatusCode, await migrate.Content.ReadAsStringAsync());
        }

        // Restarted, each reads its own values from its own objects (the block cache starts empty).
        foreach (var (c, name) in new[] { (a, "a"), (b, "b") })
        {
            var n = c.Nodes[0];
            n.Kill();
            n.Start();
            await c.WaitForLeaderAsync();
            await c.WaitReadyAsync();
            for (var i = 0; i < 20; i += 7)
            {
                var got = await c.Http.GetFromJsonAsync<JsonElement>($"{n.Http}/kv/shared/{i:D3}");
                Assert.Equal($"{name}{i}", got.GetProperty("value").GetString());
                Assert.Equal("object", got.GetProperty("tier").GetString());
            }
        }

        using var s3check = new S3ObjectStore(rgw.Options(bucket));
        var prefixes = (await s3check.ListAsync("nodes/1/")).Select(o => string.Join('/', o.Key.Split('/')[..3])).Distinct().ToList();
        Assert.Equal(2, prefixes.Count);

        // A third cluster on the same bucket with S3_PREFIX: its tables under team/c/nodes/1/{archive id}/, nothing at the root.
        using var c3 = await ArchivingCluster.StartAsync(rgw, bucket, 1, new Dictionary<string, string> { ["S3_PREFIX"] = "team/c" });
        var n3 = c3.Nodes[0];
        using (var put = await c3.Http.PutAsync($"{n3.Http}/kv/shared/000", new StringContent("{\"value\":\"c0\"}", Encoding.UTF8, "application/json")))
        {
            put.EnsureSuccessStatusCode();
        }

        (await c3.Http.PostAsync(n3.Http + "/admin/flush", null)).EnsureSuccessStatusCode();
        using (var migrate = await c3.Http.PostAsync(n3.Http + "/admin/migrate", null))
        {
            Assert.True(migrate.IsSuccessStatusCode, await migrate.Content.ReadAsStringAsync());
        }

        var archiveId = (await File.ReadAllTextAsync(Path.Combine(n3.DataDir, "archive-id"))).Trim();
        var own = await s3check.ListAsync("team/c/");
        Assert.NotEmpty(own);
        Assert.All(own, o => Assert.StartsWith($"team/c/nodes/1/{archiveId}/sst/", o.Key, StringComparison.Ordinal));
        Assert.Equal(prefixes, (await s3check.ListAsync("nodes/1/")).Select(o => string.Join('/', o.Key.Split('/')[..3])).Distinct().ToList());
        var c0 = await c3.Http.GetFromJsonAsync<JsonElement>($"{n3.Http}/kv/shared/000");
        Assert.Equal("c0", c0.GetProperty("value").GetString());
    }
}
