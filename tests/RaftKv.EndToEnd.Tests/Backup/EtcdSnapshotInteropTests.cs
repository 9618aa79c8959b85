using System.Globalization;
using System.Text.Json;
using RaftKv.EndToEnd.Tests.Etcd;
using RaftKv.EndToEnd.Tests.Etcd.Differential;

namespace RaftKv.EndToEnd.Tests.Backup;

/// <summary>
/// The snapshot <c>etcdctl snapshot save</c> takes from RaftKv is also an etcd backend (Backup/Bbolt/EtcdSnapshotFile.cs),
/// checked with etcd's own tools on real processes: <c>etcdctl snapshot status</c> reads it (RaftKv's revision, every
/// record counted), <c>etcdctl snapshot restore</c> builds an etcd 3.4 data directory from it, and that real etcd serves
/// the same keys with the same revisions, the history since the compaction, the compaction itself and the lease; and
/// <c>kvctl snapshot status</c> verifies the same file.
/// </summary>
public sealed class EtcdSnapshotInteropTests
{
    [Fact]
    public async Task ARealEtcdRestoredFromARaftKvSnapshotServesTheSameKeysRevisionsHistoryAndLeases()
    {
        var work = Path.Combine(Path.GetTempPath(), "raftkv-etcd-interop-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(work);
        var file = Path.Combine(work, "snap.db");
        try
        {
            using var c = new LocalCluster(1);
            c.StartAll();
            await c.WaitForLeaderAsync();
            var ep = c.Nodes[0].Grpc;
            (await Etcdctl.RunAsync(ep, "put", "i/a", "1")).Ok();
            (await Etcdctl.RunAsync(ep, "put", "i/b", "1")).Ok();
            var historic = (await Etcdctl.RunAsync(ep, "put", "i/a", "2", "-w", "json")).Ok().Json.GetProperty("header").GetProperty("revision").GetInt64();
            (await Etcdctl.RunAsync(ep, "compact", historic.ToString(CultureInfo.InvariantCulture))).Ok();
            (await Etcdctl.RunAsync(ep, "put", "i/a", "3")).Ok();
            (await Etcdctl.RunAsync(ep, "del", "i/b")).Ok();
            var lease = (await Etcdctl.RunAsync(ep, "lease", "grant", "600", "-w", "json")).Ok().Json.GetProperty("ID").GetInt64();
            var leaseHex = lease.ToString("x", CultureInfo.InvariantCulture);
            (await Etcdctl.RunAsync(ep, "put", "i/leased", "v", "--lease=" + leaseHex)).Ok();
            // Enough data for a bbolt tree of several levels (about 1,500 leaves under branch pages), and a value
            // larger than a page (a leaf with overflow pages).
            using (var channel = Grpc.Net.Client.GrpcChannel.ForAddress("http://" + ep))
            {
                var kv = new RaftKv.Protocol.Etcd.KV.KVClient(channel);
                var value = Google.Protobuf.ByteString.CopyFrom(new byte[2000]);
                // 16 puts in flight: the same keys and values as one at a time, in a fraction of the time.
                await Parallel.ForEachAsync(Enumerable.Range(0, 3000), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, ct) =>
                    await kv.PutAsync(new RaftKv.Protocol.Etcd.PutRequest { Key = Google.Protobuf.ByteString.CopyFromUtf8($"bulk/{i:D5}"), Value = value }, cancellationToken: ct));

                await kv.PutAsync(new RaftKv.Protocol.Etcd.PutRequest { Key = Google.Protobuf.ByteString.CopyFromUtf8("i/large"), Value = Google.Protobuf.ByteString.CopyFrom(new byte[200_000]) });
            }

            var before = (await Etcdctl.RunAsync(ep, "get", string.Empty, "--from-key", "-w", "json")).Ok().Json;
            var revision = before.GetProperty("header").GetProperty("revision").GetInt64();

            (await Etcdctl.RunAsync(ep, "snapshot", "save", file)).Ok();
            var status = (await Etcdctl.RunAsync(ep, "snapshot", "status", file, "-w", "json")).Ok().Json;
            Assert.Equal(revision, status.GetProperty("revision").GetInt64());
            // key bucket: i/a 2 and i/b 1 (live at the compact revision), then i/a 3, the delete of i/b, i/leased, the bulk;
            // lease: 1; meta: consistent_index, finishedCompactRev, scheduledCompactRev; auth: authEnabled, authRevision.
            Assert.Equal(5 + 3001 + 1 + 3 + 2, status.GetProperty("totalKey").GetInt32());
            var kvctl = await KvctlRunner.RunAsync(ep, "snapshot", "status", file, "-q");
            Assert.True(kvctl.Code == 0, kvctl.Out + kvctl.Err);

            using var etcd = new EtcdServer(TimeSpan.FromSeconds(5), restoreSnapshot: file);
            await etcd.WaitReadyAsync(TimeSpan.FromSeconds(60));
            var after = (await Etcdctl.RunAsync(etcd.Endpoint, "get", string.Empty, "--from-key", "-w", "json")).Ok().Json;
            Assert.Equal(revision, after.GetProperty("header").GetProperty("revision").GetInt64());
            Assert.Equal(Kvs(before), Kvs(after));
            Assert.Equal("i/a\n2\n", (await Etcdctl.RunAsync(etcd.Endpoint, "get", "i/a", "--rev=" + historic.ToString(CultureInfo.InvariantCulture))).Ok().Out);
            Assert.Contains("required revision has been compacted", (await Etcdctl.RunAsync(etcd.Endpoint, "get", "i/a", "--rev=" + (historic - 1).ToString(CultureInfo.InvariantCulture))).Err, StringComparison.Ordinal);
            Assert.Contains(leaseHex, (await Etcdctl.RunAsync(etcd.Endpoint, "lease", "list")).Ok().Out, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private static string[] Kvs(JsonElement range) => [.. range.GetProperty("kvs").EnumerateArray().Select(k => k.GetRawText())];
}
