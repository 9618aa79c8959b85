using System.Globalization;

namespace RaftKv.EndToEnd.Tests.Etcd.Clients;

/// <summary>etcd's Go client (<see cref="GoClientV3"/>) given every member, as Kubernetes and Go services configure it,
/// while the test SIGKILLs the leader, restarts it, and then SIGKILLs the leader elected after: one writer puts
/// 1, 2, 3, … to a key, a watcher follows it (clientv3 resumes a broken watch on another member from the next
/// revision), a reader does linearizable gets. The check fails if an acknowledged put is never watched, a watch event
/// comes twice or out of order, or a read returns a value older than one acknowledged before it began.</summary>
public sealed class GoClientV3FailoverTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task WritesWatchesAndReadsGoOnAcrossTwoLeaderKills()
    {
        using var c = new LocalCluster(3);
        c.StartAll();
        await c.WaitForLeaderAsync();
        await c.WaitReadyAsync();
        await RunAsync(c, [], []);
    }

    /// <summary>The same over TLS with auth on and 3 s tokens: the client's token, issued by a member that is then
    /// killed, expires and is renewed on whichever member the client moved to.</summary>
    [Fact]
    public async Task WritesWatchesAndReadsGoOnAcrossTwoLeaderKillsOverTlsWithAuthOn()
    {
        using var kit = new TlsTestKit();
        using var c = await GoClientV3.StartTlsAuthClusterAsync(kit);
        await RunAsync(c, ["-cacert", kit.CaFile, "-user", "root", "-password", "root-pw"], ["--cacert", kit.CaFile, "--user", "root:root-pw"]);
    }

    private static async Task RunAsync(LocalCluster c, string[] goArgs, string[] etcdctlArgs)
    {
        var endpoints = string.Join(',', c.Nodes.Select(n => n.Grpc));
        var stop = Path.Combine(c.Root, "stop-failover");
        var run = GoClientV3.CheckAsync("failover", ["-endpoints", endpoints, "-prefix", "go-failover/", "-until", stop, "-seconds", "240", .. goArgs], TimeSpan.FromMinutes(5));

        async Task<long> CounterAsync()
        {
            var live = string.Join(',', c.Nodes.Where(n => n.IsRunning).Select(n => n.Grpc));
            var r = await Etcdctl.RunAsync(live, [.. etcdctlArgs, "get", "go-failover/counter", "--print-value-only"]);
            return r.Code == 0 && long.TryParse(r.Out.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : -1;
        }

        async Task ProgressAsync(string what)
        {
            var from = await CounterAsync();
            await Eventually.TrueAsync(async () => run.IsCompleted || await CounterAsync() >= from + 100, Deadline, what);
            Assert.False(run.IsCompleted, $"the Go client ended early: {(run.IsCompleted ? run.Result : default)}");
        }

        await ProgressAsync("the Go client writes");
        for (var kill = 1; kill <= 2; kill++)
        {
            var leader = await c.WaitForLeaderAsync();
            leader.Kill();
            await ProgressAsync($"the Go client writes after leader kill {kill}");
            leader.Start();
            await c.WaitReadyAsync();
            await ProgressAsync($"the Go client writes after the killed leader {kill} restarted");
        }

        await File.WriteAllTextAsync(stop, "stop");
        var (code, output, err) = await run;
        Assert.True(code == 0 && output.Contains("ok failover", StringComparison.Ordinal), $"failover check failed ({code}):\n{output}\n{err}");
    }
}
