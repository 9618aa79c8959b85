using System.Globalization;
using RaftKv.EndToEnd.Tests.Etcd;

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
}
