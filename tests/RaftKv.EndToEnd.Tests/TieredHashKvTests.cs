using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using RaftKv.EndToEnd.Tests.Etcd;
using RaftKv.Tiering.Tests;

namespace RaftKv.EndToEnd.Tests;

/// <summary><c>etcdctl endpoint hashkv</c> on a node whose key space is partly archived on a real S3 server (Ceph
/// RGW): the streamed pass reads archived tables back and answers the hash it answered before they were archived.</summary>
[Collection("rgw-e2e")]
public sealed class TieredHashKvTests(RgwFixture rgw)
{
    [Fact]
    public async Task HashKvOfAPartlyArchivedKeyspaceEqualsTheUntieredOne()
    {
        var bucket = ArchivingCluster.NewBucket();
        using var c = await ArchivingCluster.StartAsync(rgw, bucket, 1);
        var n = await c.WaitForLeaderAsync();

        async Task PutAsync(string prefix, int count)
        {
            for (var i = 0; i < count; i++)
            {
                using var put = await c.Http.PutAsync($"{n.Http}/kv/{prefix}/{i:D3}", new StringContent($"{{\"value\":\"{prefix}-{i}\"}}", Encoding.UTF8, "application/json"));
                put.EnsureSuccessStatusCode();
            }
        }

        async Task<(long Hash, long Revision)> HashKvAsync(long revision)
        {
            var json = (await Etcdctl.RunAsync(n.Grpc, "endpoint", "hashkv", "--rev", revision.ToString(System.Globalization.CultureInfo.InvariantCulture), "-w", "json")).Ok().Json;
            var hashKv = json[0].GetProperty("HashKV");
            return (hashKv.GetProperty("hash").GetInt64(), hashKv.GetProperty("header").GetProperty("revision").GetInt64());
        }

        // Untiered: everything in the memtable.
        await PutAsync("a", 120);
        var (hashA, revA) = await HashKvAsync(0);
        await PutAsync("b", 80);
        await PutAsync("a", 30); // overwrites: a/000..a/029 have two versions
        var (hashAb, revAb) = await HashKvAsync(0);
        Assert.True(revAb > revA);

        (await c.Http.PostAsync(n.Http + "/admin/flush", null)).EnsureSuccessStatusCode();
        using (var migrate = await c.Http.PostAsync(n.Http + "/admin/migrate", null))
        {
            Assert.True(migrate.IsSuccessStatusCode, await migrate.Content.ReadAsStringAsync());
        }

        await PutAsync("c", 40); // a local part after the archived one
        var before = await c.Http.GetFromJsonAsync<JsonElement>(n.Http + "/stats");
        Assert.True(before.GetProperty("object_size_bytes").GetInt64() > 0, before.ToString());

        Assert.Equal(hashA, (await HashKvAsync(revA)).Hash);
        Assert.Equal(hashAb, (await HashKvAsync(revAb)).Hash);
        var after = await c.Http.GetFromJsonAsync<JsonElement>(n.Http + "/stats");
        Assert.True(after.GetProperty("object_read_requests").GetInt64() > before.GetProperty("object_read_requests").GetInt64(), after.ToString()); // the hash read S3
    }
}
