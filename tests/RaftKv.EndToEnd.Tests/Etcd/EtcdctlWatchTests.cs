using System.Globalization;
using static RaftKv.EndToEnd.Tests.Etcd.EtcdJson;

namespace RaftKv.EndToEnd.Tests.Etcd;

/// <summary>etcdctl watch against RaftKv: from a past revision (history, then live), and across a leader kill.</summary>
[Collection(EtcdCollection.Name)]
public sealed class EtcdctlWatchTests(EtcdClusterFixture fixture)
{
    /// <summary>"PUT"/"DELETE", key, value triples of etcdctl's plain watch output (a delete prints an empty value
    /// line only with --prev-kv; here every event is read as three lines, the value of a delete being empty).</summary>
    private static List<(string Type, string Key, string Value)> Events(IReadOnlyList<string> lines)
    {
        var events = new List<(string, string, string)>();
        for (var i = 0; i < lines.Count; i++)
        {
            if (lines[i] is "PUT" or "DELETE" && i + 1 < lines.Count)
            {
                var value = lines[i] == "PUT" && i + 2 < lines.Count ? lines[i + 2] : string.Empty;
                events.Add((lines[i], lines[i + 1], value));
            }
        }

        return events;
    }

    [Fact]
    public async Task WatchFromAPastRevisionReplaysTheHistoryThenFollowsLiveChanges()
    {
        var ep = fixture.Endpoints;
        var r1 = Revision((await Etcdctl.RunAsync(ep, "put", "w/a", "1", "-w", "json")).Ok().Json);
        (await Etcdctl.RunAsync(ep, "put", "w/b", "2")).Ok();
        (await Etcdctl.RunAsync(ep, "put", "w/a", "3")).Ok();
        (await Etcdctl.RunAsync(ep, "del", "w/b")).Ok();
        (await Etcdctl.RunAsync(ep, "put", "other", "x")).Ok();

        using var watch = Etcdctl.Spawn(ep, "watch", "w/", "--prefix", "--rev", r1.ToString(CultureInfo.InvariantCulture));
        var past = await watch.ReadUntilAsync(l => Events(l).Count >= 4, TimeSpan.FromSeconds(60));
        Assert.Equal([("PUT", "w/a", "1"), ("PUT", "w/b", "2"), ("PUT", "w/a", "3"), ("DELETE", "w/b", string.Empty)], Events(past).Take(4));

        // Live: a write through another member arrives too, after the history.
        (await Etcdctl.RunAsync(fixture.Node(3).Grpc, "put", "w/c", "4")).Ok();
        var all = await watch.ReadUntilAsync(l => Events(l).Count >= 5 && l[^1] == "4", TimeSpan.FromSeconds(60));
        Assert.Equal(("PUT", "w/c", "4"), Events(all)[4]);
        Assert.Equal(5, Events(all).Count);
    }

    [Fact]
    public async Task WatchWithPrevKvShowsThePreviousValue()
    {
        var ep = fixture.Endpoints;
        var r1 = Revision((await Etcdctl.RunAsync(ep, "put", "wp/k", "old", "-w", "json")).Ok().Json);
        (await Etcdctl.RunAsync(ep, "put", "wp/k", "new")).Ok();
        using var watch = Etcdctl.Spawn(ep, "watch", "wp/k", "--prev-kv", "--rev", (r1 + 1).ToString(CultureInfo.InvariantCulture));
        var lines = await watch.ReadUntilAsync(l => l.Count >= 5, TimeSpan.FromSeconds(60));
        Assert.Equal(["PUT", "wp/k", "old", "wp/k", "new"], lines.Take(5));
    }

    /// <summary>A watcher keeps every event, exactly once and in order, while the leader is killed: etcdctl
    /// (clientv3) re-watches from its last revision on another member when its stream breaks.</summary>
    [Fact]
    public async Task WatchSurvivesALeaderKill()
    {
        using var c = new LocalCluster(3);
        c.StartAll();
        var leader = await c.WaitForLeaderAsync();
        await c.WaitReadyAsync();
        var endpoints = string.Join(',', new[] { leader }.Concat(c.Nodes.Where(n => n != leader)).Select(n => n.Grpc));
        var start = Revision((await Etcdctl.RunAsync(endpoints, "put", "lk/0", "v0", "-w", "json")).Ok().Json);

        using var watch = Etcdctl.Spawn(endpoints, "watch", "lk/", "--prefix", "--rev", start.ToString(CultureInfo.InvariantCulture));
        for (var i = 1; i <= 5; i++)
        {
            (await Etcdctl.RunAsync(endpoints, "put", $"lk/{i}", $"v{i}")).Ok();
        }

        await watch.ReadUntilAsync(l => Events(l).Count >= 6, TimeSpan.FromSeconds(60));
        leader.Kill();
        var survivors = string.Join(',', c.Nodes.Where(n => n.IsRunning).Select(n => n.Grpc));
        await c.WaitForLeaderAsync();
        for (var i = 6; i <= 10; i++)
        {
            (await Etcdctl.RunAsync(survivors, "put", $"lk/{i}", $"v{i}")).Ok();
        }

        var lines = await watch.ReadUntilAsync(l => Events(l).Count >= 11 && l[^1] == "v10", TimeSpan.FromSeconds(120));
        Assert.Equal(Enumerable.Range(0, 11).Select(i => ("PUT", $"lk/{i}", $"v{i}")), Events(lines));
    }
}
