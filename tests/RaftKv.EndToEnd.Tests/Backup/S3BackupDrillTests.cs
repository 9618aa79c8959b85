using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using RaftKv.EndToEnd.Tests.Etcd;
using RaftKv.Tiering;
using RaftKv.Tiering.Backups;
using RaftKv.Tiering.Tests;

using static RaftKv.EndToEnd.Tests.Backup.RestoreDrill;

namespace RaftKv.EndToEnd.Tests.Backup;

/// <summary>
/// The restore drill for continuous backups, with real processes and a real S3 server (Ceph RGW): a 3-node
/// cluster with BACKUP_INTERVAL gets data with history, a compaction and leases through etcdctl, bulk through
/// the .NET client, and archives its tables to the bucket; a backup is taken (<c>POST /admin/backup</c>); every
/// node's data and the whole archive tier are destroyed; <c>raftkv restore --from-s3</c> builds a new 3-node
/// cluster that serves every key, the history, the lease, and <c>HashKV</c> at the backup's revision equal to
/// the original's. Then a backup with a missing table is refused by name, leaving nothing behind.
/// </summary>
[Collection("rgw-e2e")]
public sealed class S3BackupDrillTests(RgwFixture rgw)
{
    [Fact]
    public async Task BackupToS3ThenRestoreNewClusterFromItKeepsEveryKeyAndHash()
    {
        _ = Etcdctl.Path;
        var bucket = "drill-" + Guid.NewGuid().ToString("N")[..10];
        using var s3 = new S3ObjectStore(rgw.Options(bucket));
        await s3.EnsureBucketAsync();
        var env = S3Env(rgw, bucket);

        long revision;
        uint hash;
        JsonElement[] kvs;
        string leaseId;
        ulong oldClusterId;
        long compactAt;
        string backupId;
        using (var source = new LocalCluster(3, new Dictionary<string, string>(env)
        {
            ["BACKUP_INTERVAL"] = "1h",
            ["BACKUP_RETENTION"] = "3",
            ["DISK_MAX_SIZE_GB"] = "0.000000001", // ~1 byte: every flushed table is archived (backups copy them)
        }))
        {
            source.StartAll();
            await source.WaitForLeaderAsync();
            await source.WaitReadyAsync();
            var ep = Endpoints(source);
            (compactAt, leaseId, revision, oldClusterId, kvs, hash) = await SeedAsync(source, ep, 23);

            var leader = await source.WaitForLeaderAsync();
            (await source.Http.PostAsync(leader.Http + "/admin/flush", null)).EnsureSuccessStatusCode();
            (await source.Http.PostAsync(leader.Http + "/admin/migrate", null)).EnsureSuccessStatusCode();
            Assert.NotEmpty(await s3.ListAsync("nodes/")); // the leader's tables are in the archive tier

            var follower = source.Nodes.First(n => n != leader);
            using var taken = await source.Http.PostAsync(follower.Http + "/admin/backup", null); // forwarded to the leader
            var body = await taken.Content.ReadAsStringAsync();
            Assert.True(taken.IsSuccessStatusCode, body);
            var manifest = JsonDocument.Parse(body).RootElement;
            backupId = manifest.GetProperty("id").GetString()!;
            Assert.Equal(revision, manifest.GetProperty("revision").GetInt64());
            Assert.Equal(compactAt, manifest.GetProperty("compact_revision").GetInt64());
            Assert.Equal(oldClusterId.ToString("x16", CultureInfo.InvariantCulture), manifest.GetProperty("cluster_id").GetString());
            Assert.Equal(3, manifest.GetProperty("members").GetArrayLength());

            var stats = await source.Http.GetFromJsonAsync<JsonElement>(leader.Http + "/stats");
            var backupStats = stats.GetProperty("backup");
            Assert.True(backupStats.GetProperty("enabled").GetBoolean());
            Assert.Equal(backupId, backupStats.GetProperty("newest").GetProperty("id").GetString());
            Assert.True(backupStats.GetProperty("size_bytes").GetInt64() > 2500 * 700);
            var metrics = await source.Http.GetStringAsync(leader.Http + "/metrics");
            Assert.Contains("raftkv_backup_age_seconds ", metrics, StringComparison.Ordinal);
            Assert.Contains("raftkv_backups_total ", metrics, StringComparison.Ordinal);

            var listed = await leader.RunCommandAsync("restore", "--from-s3", "--list");
            Assert.True(listed.Code == 0, listed.Out + listed.Err);
            Assert.Contains(backupId + "\t", listed.Out, StringComparison.Ordinal);
            foreach (var n in source.Nodes)
            {
                var code = await n.TerminateAsync(TimeSpan.FromSeconds(60));
                Assert.True(code == 0, $"node {n.NodeId} exited {code}: {n.Log()[^Math.Min(n.Log().Length, 4000)..]}");
            }
        } // deletes every node's data

        foreach (var o in await s3.ListAsync("nodes/"))
        {
            await s3.DeleteAsync(o.Key); // and the archive tier: the backup alone must be enough
        }

        using (var restored = new LocalCluster(3, env))
        {
            foreach (var n in restored.Nodes)
            {
                var r = await n.RunCommandAsync("restore", "--from-s3");
                Assert.True(r.Code == 0, $"restore of node {n.NodeId} exited {r.Code}: {r.Out}{r.Err}");
                Assert.Contains($"from backup {backupId}:", r.Out, StringComparison.Ordinal); // the newest
                Assert.Contains($"revision {revision},", r.Out, StringComparison.Ordinal);
            }

            restored.StartAll();
            await restored.WaitForLeaderAsync();
            await restored.WaitReadyAsync();
            var rep = Endpoints(restored);
            var after = (await Etcdctl.RunAsync(rep, "get", string.Empty, "--from-key", "-w", "json")).Ok().Json;
            Assert.NotEqual(oldClusterId, after.GetProperty("header").GetProperty("cluster_id").GetUInt64());
            Assert.Equal(revision, after.GetProperty("header").GetProperty("revision").GetInt64());
            Assert.Equal(kvs.Select(k => k.GetRawText()), after.GetProperty("kvs").EnumerateArray().Select(k => k.GetRawText()));
            Assert.Equal(hash, await SameHashOnEveryMemberAsync(restored, revision));
            Assert.Equal("h/a\n2\n", (await Etcdctl.RunAsync(rep, "get", "h/a", "--rev=" + compactAt.ToString(CultureInfo.InvariantCulture))).Ok().Out); // history kept
            Assert.Contains("required revision has been compacted", (await Etcdctl.RunAsync(rep, "get", "h/a", "--rev=2")).Err, StringComparison.Ordinal);
            Assert.Contains("attached keys([l/1 l/2])", (await Etcdctl.RunAsync(rep, "lease", "timetolive", leaseId, "--keys")).Ok().Out, StringComparison.Ordinal);
            (await EtcdctlAsync(rep, "put", "after/restore", "ok")).Ok();
            Assert.Equal("after/restore\nok\n", (await Etcdctl.RunAsync(rep, "get", "after/restore")).Ok().Out);
        }

        var backup = await new BackupCatalog(s3, new BackupLayout("backups/")).ReadAsync(backupId);
        var lost = backup.Files.Last();
        await s3.DeleteAsync(lost.Key);
        using var target = new LocalCluster(1, env);
        var refused = await target.Nodes[0].RunCommandAsync("restore", "--from-s3", "--backup", backupId);
        Assert.Equal(1, refused.Code);
        Assert.Contains("(TableMissing)", refused.Err, StringComparison.Ordinal);
        Assert.Contains(lost.Key, refused.Err, StringComparison.Ordinal);
        Assert.False(Directory.Exists(target.Nodes[0].DataDir) && Directory.EnumerateFileSystemEntries(target.Nodes[0].DataDir).Any(), "a refused backup writes nothing");
    }
}
