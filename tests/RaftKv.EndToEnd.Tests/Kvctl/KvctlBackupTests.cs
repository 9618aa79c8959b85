using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using RaftKv.EndToEnd.Tests.Backup;
using RaftKv.Tiering;
using RaftKv.Tiering.Tests;

namespace RaftKv.EndToEnd.Tests.Kvctl;

/// <summary>
/// kvctl's backup commands against a real S3 server (Ceph RGW) and a real node whose tables are archived to it:
/// <c>backup now</c> takes one (its id and revision printed), <c>backup list</c> shows it (json and simple), and the
/// data comes back through both restore paths: <c>kvctl snapshot restore</c> of a <c>kvctl snapshot save</c> file,
/// and <c>raftkv restore --from-s3 --backup ID</c> with the id kvctl listed (kvctl has no S3 restore of its own),
/// each started as a new node and read with kvctl. A truncated snapshot is refused with exit 1 and writes nothing.
/// </summary>
[Collection("rgw-e2e")]
public sealed class KvctlBackupTests(RgwFixture rgw)
{
    private const int Keys = 200;

    [Fact]
    public async Task BackupNowListAndRestoreThroughKvctl()
    {
        var bucket = "kvctl-" + Guid.NewGuid().ToString("N")[..10];
        using (var s3 = new S3ObjectStore(rgw.Options(bucket)))
        {
            await s3.EnsureBucketAsync();
        }

        var env = RestoreDrill.S3Env(rgw, bucket);
        using var dir = new TempDir();
        var snapshot = Path.Combine(dir.Path, "snap.db");
        string backupId;
        long backupRevision;
        using (var c = new LocalCluster(1, new Dictionary<string, string>(env)
        {
            ["BACKUP_INTERVAL"] = "1h",
            // Every table is older than this at `migrate` (age is judged by interval and manual passes only, and the
            // interval pass is an hour away), so the manual migrate below archives them all; a disk limit would have
            // the archiver archive them as soon as they are flushed, before `migrate` runs.
            ["DISK_MIGRATION_AGE_HOURS"] = "0.0000001",
            ["ARCHIVE_INTERVAL"] = "1h",
        }))
        {
            c.StartAll();
            await c.WaitForLeaderAsync();
            await c.WaitReadyAsync();
            var ep = c.Nodes[0].Grpc;
            var keys = Path.Combine(dir.Path, "keys.jsonl");
            await File.WriteAllTextAsync(keys, string.Concat(Enumerable.Range(0, Keys).Select(i => $$"""{"key":"bk/{{i:D4}}","value":"value {{i}}"}""" + "\n")));
            var load = await KvctlRunner.RunAsync(ep, "load", "--file", keys);
            Assert.True(load.Code == 0, load.Err);
            Assert.Equal(0, (await KvctlRunner.RunAsync(ep, "flush")).Code);
            // migrate and backup now show the server's progress (polled), as plain lines since stderr is not a terminal.
            var migrate = await KvctlRunner.RunAsync(ep, "migrate");
            Assert.True(migrate.Code == 0, migrate.Err);
            Assert.True(long.Parse(Regex.Match(migrate.Out, @"migrated (\d+) tables").Groups[1].Value, CultureInfo.InvariantCulture) > 0, migrate.Out);
            Assert.Matches(@"(?m)^migrate: [1-9]\d* / [1-9]\d* tables \(100%\), \d+ / \d+ bytes", migrate.Err);
            var first = await KvctlRunner.RunAsync(ep, "backup", "now");
            Assert.True(first.Code == 0, first.Err);
            Assert.Matches(@"(?m)^backup: [1-9]\d* / [1-9]\d* files \(100%\)", first.Err);

            var now = await KvctlRunner.RunAsync(ep, "-w", "json", "backup", "now");
            Assert.True(now.Code == 0, now.Err);
            var manifest = JsonDocument.Parse(now.Out).RootElement;
            backupId = manifest.GetProperty("id").GetString()!;
            backupRevision = manifest.GetProperty("revision").GetInt64();
            Assert.True(manifest.GetProperty("files").GetInt32() > 0, now.Out);

            // Written after the backup: in the snapshot, not in the backup.
            Assert.Equal(0, (await KvctlRunner.RunAsync(ep, "put", "after/backup", "later")).Code);

            var list = await KvctlRunner.RunAsync(ep, "-w", "json", "backup", "list");
            Assert.True(list.Code == 0, list.Err);
            var listed = JsonDocument.Parse(list.Out).RootElement;
            var mine = listed.GetProperty("backups").EnumerateArray().Single(b => b.GetProperty("id").GetString() == backupId);
            Assert.Equal(backupRevision, mine.GetProperty("revision").GetInt64());
            Assert.Equal(0, listed.GetProperty("unreadable").GetArrayLength());
            var simple = await KvctlRunner.RunAsync(ep, "backup", "list");
            Assert.True(simple.Code == 0, simple.Err);
            Assert.Contains("\n" + backupId + "\t", "\n" + simple.Out, StringComparison.Ordinal);

            var save = await KvctlRunner.RunAsync(ep, "snapshot", "save", snapshot);
            Assert.True(save.Code == 0, save.Err);
            Assert.Equal(0, await c.Nodes[0].TerminateAsync(TimeSpan.FromSeconds(60)));
        }

        // A truncated file is refused (exit 1, docs/operations.md "kvctl") before raftkv runs: nothing is written.
        var truncated = Path.Combine(dir.Path, "truncated.db");
        await File.WriteAllBytesAsync(truncated, (await File.ReadAllBytesAsync(snapshot))[..^100]);
        var refusedDir = Path.Combine(dir.Path, "refused");
        var refused = await KvctlRunner.RunArgsAsync(["snapshot", "restore", truncated, "--raftkv", RepoPaths.ServerDll, "--data-dir", refusedDir, "--node-id", "1"]);
        Assert.True(refused.Code == 1, $"{refused.Code}: {refused.Err}");
        Assert.False(Directory.Exists(refusedDir), "a refused snapshot writes nothing");

        // Restore 1: the snapshot file through kvctl; the node serves every key, the late one included.
        using (var fromFile = new LocalCluster(1))
        {
            var node = fromFile.Nodes[0];
            var restore = await KvctlRunner.RunArgsAsync(["snapshot", "restore", snapshot, "--raftkv", RepoPaths.ServerDll,
                "--data-dir", node.DataDir, "--node-id", "1", "--raft-port", node.RaftPort.ToString(CultureInfo.InvariantCulture), "--advertise-host", "127.0.0.1"]);
            Assert.True(restore.Code == 0, restore.Out + restore.Err);
            foreach (var phase in new[] { @"verify: \d+ / \d+ bytes", @"restore: verify \d+ / \d+ bytes", @"restore: unpack \d+ / \d+ bytes", @"restore: ingest [1-9]\d* / [1-9]\d* files" })
            {
                Assert.Matches($@"(?m)^{phase} \(100%\)", restore.Err); // kvctl's own check, then raftkv restore's phases
            }

            await StartAndCheckAsync(fromFile, expectLate: true);
        }

        // Restore 2: the backup kvctl listed, from S3; the node serves what the backup held, not the later write.
        using (var fromS3 = new LocalCluster(1, env))
        {
            var node = fromS3.Nodes[0];
            var restore = await node.RunCommandAsync("restore", "--from-s3", "--backup", backupId);
            Assert.True(restore.Code == 0, restore.Out + restore.Err);
            Assert.Contains($"revision {backupRevision},", restore.Out, StringComparison.Ordinal);
            Assert.Matches(@"(?m)^restore: download [1-9]\d* / [1-9]\d* bytes \(100%\)", restore.Err);
            Assert.Matches(@"(?m)^restore: ingest [1-9]\d* / [1-9]\d* files \(100%\)", restore.Err);
            await StartAndCheckAsync(fromS3, expectLate: false);
        }
    }

    private static async Task StartAndCheckAsync(LocalCluster c, bool expectLate)
    {
        c.StartAll();
        await c.WaitForLeaderAsync();
        await c.WaitReadyAsync();
        var ep = c.Nodes[0].Grpc;
        var all = await KvctlRunner.RunAsync(ep, "-w", "json", "get", "bk/", "--prefix");
        Assert.True(all.Code == 0, all.Err);
        var values = JsonDocument.Parse(all.Out).RootElement.GetProperty("kvs").EnumerateArray().Select(k => k.GetProperty("value").GetString()).ToList();
        Assert.Equal(Enumerable.Range(0, Keys).Select(i => "value " + i.ToString(CultureInfo.InvariantCulture)), values);
        var late = await KvctlRunner.RunAsync(ep, "get", "after/backup");
        Assert.Equal(expectLate ? 0 : 1, late.Code); // exit 1: the answer is no (missing key)
        var put = await KvctlRunner.RunAsync(ep, "put", "after/restore", "ok");
        Assert.True(put.Code == 0, put.Err);
        Assert.StartsWith("ok", (await KvctlRunner.RunAsync(ep, "get", "after/restore")).Out, StringComparison.Ordinal);
    }
}
