using System.Globalization;
using System.Text;
using System.Text.Json;
using RaftKv.Client;
using RaftKv.EndToEnd.Tests.Etcd;

using static RaftKv.EndToEnd.Tests.Backup.RestoreDrill;

namespace RaftKv.EndToEnd.Tests.Backup;

/// <summary>
/// Disaster recovery with etcd's tools against real processes: a 3-node cluster gets data with history,
/// a compaction and leases through etcdctl (and bulk through the .NET client, so the snapshot spans
/// several SSTables); <c>etcdctl snapshot save</c> from a follower; every node is stopped and its data
/// deleted; <c>raftkv restore</c> builds a new 3-node cluster (new ports, new cluster id) that serves
/// every key, the history, the leases, and <c>HashKV</c> at the snapshot revision equal to the original's.
/// Truncated and corrupt files are refused with a non-zero exit and a message saying which.
/// </summary>
public sealed class SnapshotRestoreTests
{

    [Fact]
    public async Task EtcdctlSnapshotSaveThenRestoreIntoNewClusterKeepsEveryKeyAndHash()
    {
        _ = Etcdctl.Path;
        var work = Path.Combine(Path.GetTempPath(), "raftkv-dr-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(work);
        var file = Path.Combine(work, "snap.db");
        try
        {
            long revision;
            uint hash;
            JsonElement[] kvs;
            string leaseId;
            ulong oldClusterId;
            long compactAt;
            using (var source = new LocalCluster(3))
            {
                source.StartAll();
                await source.WaitForLeaderAsync();
                await source.WaitReadyAsync();
                var ep = Endpoints(source);
                (compactAt, leaseId, revision, oldClusterId, kvs, hash) = await SeedAsync(source, ep, 17);

                var leader = await source.WaitForLeaderAsync();
                var follower = source.Nodes.First(n => n != leader);
                var saved = await Etcdctl.RunAsync(follower.Grpc, "snapshot", "save", file);
                Assert.True(saved.Code == 0, saved.ToString());
                Assert.Contains("Snapshot saved at " + file, saved.Out, StringComparison.Ordinal);
                var status = (await Etcdctl.RunAsync(follower.Grpc, "snapshot", "status", file, "-w", "json")).Ok().Json; // etcd's tool reads it too
                Assert.Equal(revision, status.GetProperty("revision").GetInt64());
                foreach (var n in source.Nodes)
                {
                    Assert.Equal(0, await n.TerminateAsync(TimeSpan.FromSeconds(60)));
                }
            } // deletes every node's data

            using var restored = new LocalCluster(3);
            foreach (var n in restored.Nodes)
            {
                var r = await n.RunCommandAsync("restore", file);
                Assert.True(r.Code == 0, $"restore of node {n.NodeId} exited {r.Code}: {r.Out}{r.Err}");
                Assert.Contains($"revision {revision}", r.Out, StringComparison.Ordinal);
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
            Assert.Contains("required revision has been compacted", (await Etcdctl.RunAsync(rep, "get", "h/a", "--rev=2")).Err, StringComparison.Ordinal); // and the compaction
            var ttl = (await Etcdctl.RunAsync(rep, "lease", "timetolive", leaseId, "--keys")).Ok().Out;
            Assert.Contains("attached keys([l/1 l/2])", ttl, StringComparison.Ordinal);
            (await EtcdctlAsync(rep, "put", "after/restore", "ok")).Ok(); // the new cluster takes writes
            Assert.Equal("after/restore\nok\n", (await Etcdctl.RunAsync(rep, "get", "after/restore")).Ok().Out);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    [Fact]
    public async Task TruncatedOrCorruptSnapshotIsRefused()
    {
        var work = Path.Combine(Path.GetTempPath(), "raftkv-dr-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(work);
        try
        {
            var file = Path.Combine(work, "snap.db");
            using (var source = new LocalCluster(1))
            {
                source.StartAll();
                await source.WaitForLeaderAsync();
                using var client = new RaftKvClient([source.Nodes[0].Grpc]);
                for (var i = 0; i < 50; i++)
                {
                    await client.PutAsync(Encoding.UTF8.GetBytes($"k{i}"), Encoding.UTF8.GetBytes($"v{i}"));
                }

                var saved = await KvctlRunner.RunAsync(source.Nodes[0].Grpc, "snapshot", "save", file);
                Assert.True(saved.Code == 0, saved.Out + saved.Err);
                Assert.Contains("(100%)", saved.Err, StringComparison.Ordinal); // progress shown
            }

            var bytes = await File.ReadAllBytesAsync(file);
            var truncated = Path.Combine(work, "truncated.db");
            await File.WriteAllBytesAsync(truncated, bytes[..(bytes.Length - 700)]);
            var corrupt = Path.Combine(work, "corrupt.db");
            var flipped = (byte[])bytes.Clone();
            flipped[bytes.Length / 2] ^= 0x40;
            await File.WriteAllBytesAsync(corrupt, flipped);

            using var target = new LocalCluster(1);
            var node = target.Nodes[0];
            var t = await node.RunCommandAsync("restore", truncated);
            Assert.Equal(1, t.Code);
            Assert.Contains("(Truncated)", t.Err, StringComparison.Ordinal);
            var c = await node.RunCommandAsync("restore", corrupt);
            Assert.Equal(1, c.Code);
            Assert.Contains("(Corrupt)", c.Err, StringComparison.Ordinal);
            Assert.False(Directory.Exists(node.DataDir) && Directory.EnumerateFileSystemEntries(node.DataDir).Any(), "a refused snapshot writes nothing");
            var ok = await node.RunCommandAsync("restore", file);
            Assert.True(ok.Code == 0, ok.Out + ok.Err);
            var again = await node.RunCommandAsync("restore", file);
            Assert.Equal(1, again.Code); // never over an existing directory
            Assert.Contains("not empty", again.Err, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private static JsonElement Header(EtcdctlResult r) => r.Ok().Json.GetProperty("header");
}
