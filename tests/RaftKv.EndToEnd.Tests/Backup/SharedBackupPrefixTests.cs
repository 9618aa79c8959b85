using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using RaftKv.Tiering;
using RaftKv.Tiering.Backups;
using RaftKv.Tiering.Tests;

using static RaftKv.EndToEnd.Tests.Backup.RestoreDrill;

namespace RaftKv.EndToEnd.Tests.Backup;

/// <summary>
/// Two clusters on one bucket with default settings (NODE_ID 1 each, so the same etcd cluster id, and the same default
/// BACKUP_PREFIX <c>backups/</c>), with real processes and a real S3 server (Ceph RGW): each keeps its own backups —
/// one cluster's retention (BACKUP_RETENTION=1) never deletes the other's backup, each reports its own newest — and a
/// restore without <c>--backup</c> refuses to choose between them, while <c>--cluster-uid</c> picks one and the
/// restored cluster gets a new uid. (On main before the cluster uid, cluster B's retention deleted cluster A's only
/// backup: this test failed at the catalog check.)
/// </summary>
[Collection("rgw-e2e")]
public sealed class SharedBackupPrefixTests(RgwFixture rgw)
{
    [Fact]
    public async Task TwoClustersOnOneBucketKeepTheirOwnBackupsAndRetention()
    {
        var bucket = "shared-" + Guid.NewGuid().ToString("N")[..10];
        using var s3 = new S3ObjectStore(rgw.Options(bucket));
        await s3.EnsureBucketAsync();
        var env = new Dictionary<string, string>(S3Env(rgw, bucket))
        {
            ["BACKUP_INTERVAL"] = "1h",
            ["BACKUP_RETENTION"] = "1",
        };
        var catalog = new BackupCatalog(s3, new BackupLayout("backups/"));

        using var a = new LocalCluster(1, env);
        using var b = new LocalCluster(1, env);
        a.StartAll();
        b.StartAll();
        var na = await a.WaitForLeaderAsync();
        var nb = await b.WaitForLeaderAsync();
        await a.WaitReadyAsync();
        await b.WaitReadyAsync();
        await PutAsync(a, na, "from", "a");
        await PutAsync(b, nb, "from", "b");
        var uidA = await ClusterUidAsync(a, na);
        var uidB = await ClusterUidAsync(b, nb);

        var a1 = await BackupNowAsync(a, na);
        var b1 = await BackupNowAsync(b, nb); // B's retention (1): on main it deleted a1, A's only backup
        var a2 = await BackupNowAsync(a, na); // A's retention (1): deletes a1, never b1
        var listing = await catalog.ListAsync();
        Assert.Equal([a2, b1], listing.Backups.Select(m => m.Id).Order(StringComparer.Ordinal).Reverse());
        Assert.DoesNotContain(a1, listing.Backups.Select(m => m.Id));

        Assert.NotEqual(uidA, uidB);
        Assert.Equal(uidA, listing.Backups.Single(m => m.Id == a2).ClusterUid);
        Assert.Equal(uidB, listing.Backups.Single(m => m.Id == b1).ClusterUid);
        Assert.Equal(listing.Backups[0].ClusterId, listing.Backups[1].ClusterId); // etcd's cluster id cannot tell them apart

        // Each cluster's /stats reports its own newest backup; /admin/backups marks which backups are this cluster's.
        Assert.Equal(a2, (await StatsAsync(a, na)).GetProperty("backup").GetProperty("newest").GetProperty("id").GetString());
        Assert.Equal(b1, (await StatsAsync(b, nb)).GetProperty("backup").GetProperty("newest").GetProperty("id").GetString());
        var listed = await a.Http.GetFromJsonAsync<JsonElement>(na.Http + "/admin/backups");
        Assert.Equal(uidA, listed.GetProperty("cluster_uid").GetString());
        Assert.Equal([(a2, true), (b1, false)], listed.GetProperty("backups").EnumerateArray().Select(e => (e.GetProperty("id").GetString(), e.GetProperty("this_cluster").GetBoolean())).OrderByDescending(x => x.Item1, StringComparer.Ordinal));

        // A restore without --backup must not pick whichever cluster's newest backup.
        using var target = new LocalCluster(1, S3Env(rgw, bucket));
        var node = target.Nodes[0];
        var refused = await node.RunCommandAsync("restore", "--from-s3");
        Assert.Equal(1, refused.Code);
        Assert.Contains("(AmbiguousCluster)", refused.Err, StringComparison.Ordinal);
        Assert.Contains(uidA, refused.Err, StringComparison.Ordinal);
        Assert.Contains(uidB, refused.Err, StringComparison.Ordinal);
        Assert.False(Directory.Exists(node.DataDir) && Directory.EnumerateFileSystemEntries(node.DataDir).Any(), "a refused restore writes nothing");
        var list = await node.RunCommandAsync("restore", "--from-s3", "--list");
        Assert.True(list.Code == 0, list.Out + list.Err);
        Assert.Contains(uidB, list.Out, StringComparison.Ordinal);

        var restoredA = await node.RunCommandAsync("restore", "--from-s3", "--cluster-uid", uidA);
        Assert.True(restoredA.Code == 0, restoredA.Out + restoredA.Err);
        Assert.Contains($"from backup {a2}:", restoredA.Out, StringComparison.Ordinal);
        target.StartAll();
        var nt = await target.WaitForLeaderAsync();
        await target.WaitReadyAsync();
        Assert.Equal("a", await GetAsync(target, nt, "from"));
        var uidRestored = await ClusterUidAsync(target, nt); // a new cluster: a new uid, so its backups would not merge with A's
        Assert.NotEqual(uidA, uidRestored);
        Assert.NotEqual(uidB, uidRestored);
    }

    private static async Task PutAsync(LocalCluster c, ServerProcess n, string key, string value)
    {
        using var r = await c.Http.PutAsync($"{n.Http}/kv/{key}", new StringContent(JsonSerializer.Serialize(new { value }), Encoding.UTF8, "application/json"));
        Assert.True(r.IsSuccessStatusCode, await r.Content.ReadAsStringAsync());
    }

    private static async Task<string> GetAsync(LocalCluster c, ServerProcess n, string key)
        => (await c.Http.GetFromJsonAsync<JsonElement>($"{n.Http}/kv/{key}")).GetProperty("value").GetString()!;

    private static async Task<string> BackupNowAsync(LocalCluster c, ServerProcess n)
    {
        using var r = await c.Http.PostAsync(n.Http + "/admin/backup", null);
        var body = await r.Content.ReadAsStringAsync();
        Assert.True(r.IsSuccessStatusCode, body);
        return JsonDocument.Parse(body).RootElement.GetProperty("id").GetString()!;
    }

    private static Task<JsonElement> StatsAsync(LocalCluster c, ServerProcess n) => c.Http.GetFromJsonAsync<JsonElement>(n.Http + "/stats");

    /// <summary>The cluster's replicated uid, once its leader has proposed it (right after its election).</summary>
    private static async Task<string> ClusterUidAsync(LocalCluster c, ServerProcess n)
    {
        string? uid = null;
        await Eventually.TrueAsync(
            async () =>
            {
                var s = await StatsAsync(c, n);
                uid = s.TryGetProperty("cluster_uid", out var u) && u.ValueKind == JsonValueKind.String ? u.GetString() : null;
                return uid is not null;
            },
            TimeSpan.FromSeconds(60),
            "the cluster has a cluster uid");
        return uid!;
    }
}
