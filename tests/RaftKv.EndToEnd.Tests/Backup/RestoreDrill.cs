using System.Globalization;
using System.Text;
using System.Text.Json;
using RaftKv.Client;
using RaftKv.EndToEnd.Tests.Etcd;
using RaftKv.Tiering.Tests;

namespace RaftKv.EndToEnd.Tests.Backup;

/// <summary>What the restore drills (snapshot file and S3) share: etcdctl with retries, the endpoints, HashKV on every member.</summary>
internal static class RestoreDrill
{
    /// <summary>Runs etcdctl, again while the cluster answers "no leader" (an election right after start), up to a deadline.</summary>
    public static async Task<EtcdctlResult> EtcdctlAsync(string endpoints, params string[] args)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            var r = await Etcdctl.RunAsync(endpoints, args);
            if (r.Code == 0 || !r.Err.Contains("no leader", StringComparison.Ordinal) || DateTime.UtcNow > deadline)
            {
                return r;
            }

            await Task.Delay(Poll.Interval);
        }
    }


    public static string Endpoints(LocalCluster c) => string.Join(',', c.Nodes.Select(n => n.Grpc));

    /// <summary>The S3 settings of a node that uses <paramref name="bucket"/> on the test RGW.</summary>
    public static Dictionary<string, string> S3Env(RgwFixture rgw, string bucket) => new()
    {
        ["S3_ENDPOINT"] = rgw.Endpoint,
        ["S3_BUCKET"] = bucket,
        ["S3_ACCESS_KEY"] = "testaccess",
        ["S3_SECRET_KEY"] = "testsecret123",
    };

    /// <summary>HashKV at <paramref name="revision"/> on each member separately; asserts they agree and returns it.</summary>
    public static async Task<uint> SameHashOnEveryMemberAsync(LocalCluster c, long revision)
    {
        var hashes = new List<uint>();
        foreach (var n in c.Nodes)
        {
            var j = (await Etcdctl.RunAsync(n.Grpc, "endpoint", "hashkv", "--rev=" + revision.ToString(CultureInfo.InvariantCulture), "-w", "json")).Ok().Json;
            hashes.Add(j[0].GetProperty("HashKV").GetProperty("hash").GetUInt32());
        }

        Assert.Single(hashes.Distinct());
        return hashes[0];
    }

    /// <summary>
    /// Writes the drills' data through etcdctl and the native client: history with a compaction, a deleted key,
    /// two leased keys, 2,500 keys of 700 incompressible bytes (a value of its own each, seeded by
    /// <paramref name="valueSeed"/>); returns what a restore must reproduce, HashKV checked equal on every member.
    /// </summary>
    public static async Task<(long CompactAt, string LeaseId, long Revision, ulong ClusterId, JsonElement[] Kvs, uint Hash)> SeedAsync(LocalCluster source, string ep, int valueSeed)
    {
        (await EtcdctlAsync(ep, "put", "h/a", "1")).Ok();
        (await EtcdctlAsync(ep, "put", "h/a", "2")).Ok();
        (await EtcdctlAsync(ep, "put", "h/b", "x")).Ok();
        (await EtcdctlAsync(ep, "del", "h/b")).Ok();
        var compactAt = (await Etcdctl.RunAsync(ep, "get", "h/a", "-w", "json")).Ok().Json.GetProperty("header").GetProperty("revision").GetInt64();
        (await EtcdctlAsync(ep, "put", "h/a", "3")).Ok();
        (await EtcdctlAsync(ep, "compact", compactAt.ToString(CultureInfo.InvariantCulture))).Ok();
        var leaseId = (await EtcdctlAsync(ep, "lease", "grant", "900")).Ok().Out.Split(' ')[1];
        (await EtcdctlAsync(ep, "put", "l/1", "leased", "--lease=" + leaseId)).Ok();
        (await EtcdctlAsync(ep, "put", "l/2", "leased", "--lease=" + leaseId)).Ok();
        using (var client = new RaftKvClient(source.Nodes.Select(n => n.Grpc)))
        {
            var random = new Random(valueSeed);
            var values = Enumerable.Range(0, 2500).Select(_ =>
            {
                var value = new byte[700];
                random.NextBytes(value); // incompressible, so sizes mean something with compressed tables
                return value;
            }).ToArray();
            // 16 puts in flight (the same keys and values as one at a time, in a fraction of the time; the bulk keys'
            // revisions then interleave, which nothing here compares).
            await Parallel.ForEachAsync(Enumerable.Range(0, values.Length), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, ct) =>
                await client.PutAsync(Encoding.UTF8.GetBytes($"bulk/{i:D5}"), values[i], cancellationToken: ct));
        }

        (await EtcdctlAsync(ep, "put", "h/a", "4")).Ok();
        var all = (await Etcdctl.RunAsync(ep, "get", string.Empty, "--from-key", "-w", "json")).Ok().Json;
        var revision = all.GetProperty("header").GetProperty("revision").GetInt64();
        var clusterId = all.GetProperty("header").GetProperty("cluster_id").GetUInt64();
        JsonElement[] kvs = [.. all.GetProperty("kvs").EnumerateArray()];
        Assert.Equal(2500 + 3, kvs.Length);
        return (compactAt, leaseId, revision, clusterId, kvs, await SameHashOnEveryMemberAsync(source, revision));
    }
}
