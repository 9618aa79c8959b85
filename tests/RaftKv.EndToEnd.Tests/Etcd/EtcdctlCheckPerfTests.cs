using System.Globalization;

namespace RaftKv.EndToEnd.Tests.Etcd;

/// <summary>
/// <c>etcdctl check perf</c> (etcd 3.4: 50 clients putting 1 KiB values under the prefix at up to 150 writes/s for 60 s,
/// then a delete of the prefix, <c>--auto-compact</c> at the delete's revision and <c>--auto-defrag</c> of every
/// endpoint) against a RaftKv node: every request succeeds, the compaction and defragmentation run, and nothing is left
/// under the prefix. Its PASS/FAIL verdicts on throughput and latency are timings of this machine, not checked here.
/// The one long test of the etcdctl suite (etcdctl fixes the duration at 60 s).
/// </summary>
public sealed class EtcdctlCheckPerfTests
{
    [Fact]
    public async Task CheckPerfWritesWithoutErrorsThenDeletesCompactsAndDefragments()
    {
        using var c = new LocalCluster(1);
        c.StartAll();
        await c.WaitForLeaderAsync();
        await c.WaitReadyAsync();
        var ep = c.Nodes[0].Grpc;
        (await Etcdctl.RunAsync(ep, "put", "outside", "kept")).Ok();

        var run = await Etcdctl.RunAsync(ep, "check", "perf", "--load=s", "--prefix=/perf/", "--auto-compact", "--auto-defrag");
        var lines = run.Out.Split('\n').Select(l => l[(l.LastIndexOf('\r') + 1)..]).Where(l => l.Length > 0).ToList();
        Assert.DoesNotContain(lines, l => l.StartsWith("FAIL: too many errors", StringComparison.Ordinal) || l.StartsWith("FAIL: ERROR", StringComparison.Ordinal));
        // The verdicts: PASS, or FAIL only for the timing checks (a busy machine), exit 1 then.
        var verdicts = lines.Where(l => l.StartsWith("PASS", StringComparison.Ordinal) || l.StartsWith("FAIL", StringComparison.Ordinal)
            || l.StartsWith("Slowest request took too long", StringComparison.Ordinal) || l.StartsWith("Stddev too high", StringComparison.Ordinal)).ToList();
        Assert.True(verdicts.Count == 4, run.ToString());
        Assert.True(run.Code == (verdicts[^1] == "PASS" ? 0 : 1), run.ToString());
        Assert.Matches("^(PASS: Throughput is|FAIL: Throughput too low:) [0-9]+ writes/s$", verdicts[0]);

        var compacted = Assert.Single(lines, l => l.StartsWith("Compacted with revision ", StringComparison.Ordinal));
        var revision = long.Parse(compacted["Compacted with revision ".Length..], CultureInfo.InvariantCulture);
        Assert.Contains($"Defragmented \"{ep}\"", lines);

        // The delete of the prefix is the last write: the compaction is at the current revision, and nothing under the
        // prefix is left (the keys were there: thousands of writes happened).
        var after = (await Etcdctl.RunAsync(ep, "get", "/perf/", "--prefix", "-w", "json")).Ok().Json;
        Assert.Equal(revision, after.GetProperty("header").GetProperty("revision").GetInt64());
        Assert.False(after.TryGetProperty("kvs", out _), after.ToString());
        Assert.True(revision > 1_000, $"only {revision} revisions after a 60 s check perf");
        Assert.Contains("required revision has been compacted", (await Etcdctl.RunAsync(ep, "get", "/perf/", "--prefix", "--rev=" + (revision - 1).ToString(CultureInfo.InvariantCulture))).Err, StringComparison.Ordinal);
        Assert.Equal("outside\nkept\n", (await Etcdctl.RunAsync(ep, "get", "outside")).Ok().Out);
        var status = (await Etcdctl.RunAsync(ep, "endpoint", "status", "-w", "json")).Ok().Json[0].GetProperty("Status");
        Assert.Equal(revision, status.GetProperty("header").GetProperty("revision").GetInt64());
    }
}
