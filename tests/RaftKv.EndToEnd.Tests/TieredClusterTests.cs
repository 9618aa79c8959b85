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
        foreach (var id in new[] { 1, 2, 3 })
        {
            Assert.NotEmpty(await s3check.ListAsync($"nodes/{id}/sst/")); // each node archives under its own prefix
        }
    }
}
