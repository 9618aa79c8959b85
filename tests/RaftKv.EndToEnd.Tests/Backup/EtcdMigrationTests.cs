using System.Globalization;
using System.Text.Json;
using Google.Protobuf;
using RaftKv.EndToEnd.Tests.Etcd;
using RaftKv.EndToEnd.Tests.Etcd.Differential;
using static RaftKv.EndToEnd.Tests.Backup.RestoreDrill;
using V3 = RaftKv.Protocol.Etcd;

namespace RaftKv.EndToEnd.Tests.Backup;

/// <summary>
/// Migration etcd → RaftKv on real processes: a real etcd 3.4 gets keys with history, a multi-key transaction, a
/// compaction, a delete, a lease with an attached key, a user and a role (imported: EtcdAuthMigrationTests checks them), 3,000 keys (a bbolt tree of several levels)
/// and a value larger than a page (overflow pages); <c>etcdctl snapshot save</c> from etcd; <c>raftkv restore</c> of
/// that file on each member of a new 3-node RaftKv (Backup/Bbolt/EtcdBackendImport.cs); then etcdctl against RaftKv
/// sees the same keys (same kvs JSON: create/mod revision, version, lease), the same revision, the same history
/// at etcd's compact revision and above, the compaction, the lease with its key, and writes go on at revision + 1.
/// A corrupt or truncated etcd snapshot is refused (exit 1) and writes nothing; <c>kvctl snapshot restore</c> passes
/// etcd's file on to <c>raftkv restore</c>.
/// </summary>
public sealed class EtcdMigrationTests
{
    [Fact]
    public async Task RaftKvRestoredFromARealEtcdSnapshotServesTheSameKeysRevisionsHistoryAndLeases()
    {
        var work = Path.Combine(Path.GetTempPath(), "raftkv-etcd-import-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(work);
        var file = Path.Combine(work, "etcd.db");
        try
        {
            long historic, middle, revision;
            string leaseHex;
            JsonElement before;
            string[] txnEvents;
            var historyBefore = new Dictionary<long, string[]>();
            using (var etcd = new EtcdServer(TimeSpan.FromSeconds(5)))
            {
                await etcd.WaitReadyAsync(TimeSpan.FromSeconds(60));
                var ep = etcd.Endpoint;
                (await Etcdctl.RunAsync(ep, "put", "i/a", "1")).Ok();
                (await Etcdctl.RunAsync(ep, "put", "i/b", "1")).Ok();
                (await Etcdctl.RunAsync(ep, "put", "i/c", "1")).Ok();
                (await Etcdctl.RunAsync(ep, "del", "i/c")).Ok(); // gone before the compaction: not in the file
                (await Etcdctl.RunAsync(ep, "put", "i/d", "1")).Ok();
                (await Etcdctl.RunAsync(ep, "put", "i/e", "1")).Ok();
                (await Etcdctl.RunAsync(ep, "put", "i/e", "2")).Ok(); // below the compaction, live after it: a base record, version 2
                historic = Revision((await Etcdctl.RunAsync(ep, "put", "i/a", "2", "-w", "json")).Ok().Json);
                (await Etcdctl.RunAsync(ep, "compact", historic.ToString(CultureInfo.InvariantCulture))).Ok();
                (await Etcdctl.RunAsync(ep, "put", "i/a", "3")).Ok();
                (await Etcdctl.RunAsync(ep, "del", "i/b")).Ok();
                var lease = (await Etcdctl.RunAsync(ep, "lease", "grant", "600", "-w", "json")).Ok().Json.GetProperty("ID").GetInt64();
                leaseHex = lease.ToString("x", CultureInfo.InvariantCulture);
                (await Etcdctl.RunAsync(ep, "put", "i/leased", "v", "--lease=" + leaseHex)).Ok();
                (await Etcdctl.RunAsync(ep, "user", "add", "alice", "--new-user-password=secret")).Ok();
                (await Etcdctl.RunAsync(ep, "role", "add", "reader")).Ok();
                using (var channel = Grpc.Net.Client.GrpcChannel.ForAddress("http://" + ep))
                {
                    var kv = new V3.KV.KVClient(channel);
                    var txn = new V3.TxnRequest(); // one revision, three changes (subs 0, 1, 2) in op order, not key order
                    foreach (var (op, key) in new[] { ("put", "t/z"), ("put", "t/a"), ("del", "i/d") })
                    {
                        txn.Success.Add(op == "put"
                            ? new V3.RequestOp { RequestPut = new V3.PutRequest { Key = ByteString.CopyFromUtf8(key), Value = ByteString.CopyFromUtf8("txn") } }
                            : new V3.RequestOp { RequestDeleteRange = new V3.DeleteRangeRequest { Key = ByteString.CopyFromUtf8(key) } });
                    }

                    middle = (await kv.TxnAsync(txn)).Header.Revision;
                    var value = ByteString.CopyFrom(new byte[2000]);
                    // 16 puts in flight (etcd commits them in batches): the same keys and values as one at a time, in a
                    // fraction of the time; the bulk keys' revisions interleave, which the comparisons below allow.
                    await Parallel.ForEachAsync(Enumerable.Range(0, 3000), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, ct) =>
                        await kv.PutAsync(new V3.PutRequest { Key = ByteString.CopyFromUtf8($"bulk/{i:D5}"), Value = value }, cancellationToken: ct));

                    var large = new byte[200_000];
                    new Random(7).NextBytes(large); // seed 7: incompressible, a value spanning overflow pages
                    await kv.PutAsync(new V3.PutRequest { Key = ByteString.CopyFromUtf8("i/large"), Value = ByteString.CopyFrom(large) });
                }

                before = (await Etcdctl.RunAsync(ep, "get", string.Empty, "--from-key", "-w", "json")).Ok().Json;
                revision = Revision(before);
                foreach (var at in new[] { historic, middle - 1, middle })
                {
                    historyBefore[at] = Kvs((await Etcdctl.RunAsync(ep, "get", string.Empty, "--from-key", "--rev=" + at.ToString(CultureInfo.InvariantCulture), "-w", "json")).Ok().Json);
                }

                txnEvents = await EventsAtAsync(ep, middle);
                Assert.Equal(["Put t/z", "Put t/a", "Delete i/d"], txnEvents); // etcd's op order
                (await Etcdctl.RunAsync(ep, "snapshot", "save", file)).Ok();
            }

            var bytes = await File.ReadAllBytesAsync(file);
            var corrupt = Path.Combine(work, "corrupt.db");
            var flipped = (byte[])bytes.Clone();
            flipped[bytes.Length / 2] ^= 0x40;
            await File.WriteAllBytesAsync(corrupt, flipped);
            var truncated = Path.Combine(work, "truncated.db");
            await File.WriteAllBytesAsync(truncated, bytes[..(bytes.Length / 2 / 4096 * 4096)]);

            using var c = new LocalCluster(3);
            var first = c.Nodes[0];
            var refused = await first.RunCommandAsync("restore", corrupt);
            Assert.True(refused.Code == 1, refused.Out + refused.Err);
            Assert.Contains("(Corrupt)", refused.Err, StringComparison.Ordinal);
            var cut = await first.RunCommandAsync("restore", truncated);
            Assert.True(cut.Code == 1, cut.Out + cut.Err);
            Assert.Contains("(Truncated)", cut.Err, StringComparison.Ordinal);
            Assert.False(Directory.Exists(first.DataDir) && Directory.EnumerateFileSystemEntries(first.DataDir).Any(), "a refused snapshot writes nothing");
            var status = await KvctlRunner.RunArgsAsync(["snapshot", "status", file, "-q"]); // kvctl tells etcd's file apart
            Assert.True(status.Code == 1 && status.Err.Contains("etcd's own snapshot", StringComparison.Ordinal), status.Out + status.Err);
            var viaKvctl = await KvctlRunner.RunArgsAsync(["snapshot", "restore", file, "--raftkv", RepoPaths.ServerDll, "--data-dir", Path.Combine(work, "kvctl"), "--node-id", "1"]);
            Assert.True(viaKvctl.Code == 0, viaKvctl.Out + viaKvctl.Err);
            Assert.Contains("imported etcd snapshot into member 1", viaKvctl.Out, StringComparison.Ordinal);

            foreach (var n in c.Nodes)
            {
                var r = await n.RunCommandAsync("restore", file);
                Assert.True(r.Code == 0, $"restore of node {n.NodeId} exited {r.Code}: {r.Out}{r.Err}");
                Assert.Contains($"revision {revision}, compact revision {historic}", r.Out, StringComparison.Ordinal);
                Assert.Contains("auth: 1 users (0 without a password: TLS client certificate only), 1 roles with 0 permissions, auth disabled", r.Out, StringComparison.Ordinal);
            }

            c.StartAll();
            await c.WaitForLeaderAsync();
            await c.WaitReadyAsync();
            var rep = Endpoints(c);
            var after = (await EtcdctlAsync(rep, "get", string.Empty, "--from-key", "-w", "json")).Ok().Json;
            Assert.Equal(revision, Revision(after));
            Assert.Equal(Kvs(before), Kvs(after));
            foreach (var (at, kvs) in historyBefore)
            {
                Assert.Equal(kvs, Kvs((await Etcdctl.RunAsync(rep, "get", string.Empty, "--from-key", "--rev=" + at.ToString(CultureInfo.InvariantCulture), "-w", "json")).Ok().Json));
            }

            Assert.Equal(txnEvents, await EventsAtAsync(c.Nodes[0].Grpc, middle)); // a watch replays the transaction in etcd's order (its subs)
            Assert.Contains("required revision has been compacted", (await Etcdctl.RunAsync(rep, "get", "i/a", "--rev=" + (historic - 1).ToString(CultureInfo.InvariantCulture))).Err, StringComparison.Ordinal);
            var ttl = (await Etcdctl.RunAsync(rep, "lease", "timetolive", leaseHex, "--keys")).Ok().Out;
            Assert.Contains("granted with TTL(600s)", ttl, StringComparison.Ordinal);
            Assert.Contains("attached keys([i/leased])", ttl, StringComparison.Ordinal);
            await SameHashOnEveryMemberAsync(c, revision);
            Assert.Equal(revision + 1, Revision((await EtcdctlAsync(rep, "put", "after/import", "ok", "-w", "json")).Ok().Json));
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    /// <summary>The events of revision <paramref name="revision"/> over the whole keyspace, from a watch started there.</summary>
    private static async Task<string[]> EventsAtAsync(string endpoint, long revision)
    {
        using var channel = Grpc.Net.Client.GrpcChannel.ForAddress("http://" + endpoint);
        using var call = new V3.Watch.WatchClient(channel).Watch();
        var all = ByteString.CopyFrom(0);
        await call.RequestStream.WriteAsync(new V3.WatchRequest { CreateRequest = new V3.WatchCreateRequest { Key = all, RangeEnd = all, StartRevision = revision } });
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var events = new List<string>();
        while (await call.ResponseStream.MoveNext(deadline.Token))
        {
            foreach (var e in call.ResponseStream.Current.Events)
            {
                if (e.Kv.ModRevision != revision)
                {
                    return [.. events];
                }

                events.Add($"{e.Type} {e.Kv.Key.ToStringUtf8()}");
            }
        }

        throw new InvalidOperationException($"the watch ended after {events.Count} events");
    }

    private static long Revision(JsonElement response) => response.GetProperty("header").GetProperty("revision").GetInt64();

    private static string[] Kvs(JsonElement range) => [.. range.GetProperty("kvs").EnumerateArray().Select(k => k.GetRawText())];
}
