using System.Collections.Concurrent;
using dotnet_etcd;
using Etcdserverpb;
using Google.Protobuf;
using Grpc.Core;

namespace RaftKv.EndToEnd.Tests.Etcd.Clients;

/// <summary>Third-party clients' watches through a node kill on a real 3-node RaftKv: the npm etcd3 client re-creates
/// its watch on another member from the revision after the last response it got (header revision + 1), and must see
/// every put exactly once, in order. (etcdctl's clientv3 is covered by EtcdctlWatchTests.WatchSurvivesALeaderKill.)</summary>
public sealed class ClientWatchAcrossKillTests
{
    [Fact]
    public async Task Etcd3WatchResumesAcrossAKilledMember()
    {
        using var c = new LocalCluster(3);
        c.StartAll();
        var leader = await c.WaitForLeaderAsync();
        await c.WaitReadyAsync();

        // Every node is killed once in turn (the watch stream is on one of them, unknown to the test).
        foreach (var victim in new[] { leader }.Concat(c.Nodes.Where(n => n != leader)).ToList())
        {
            var endpoints = string.Join(',', c.Nodes.Where(n => n.IsRunning).Select(n => n.Grpc));
            using var script = await NodeScript.StartAsync(endpoints, "watchAcrossKill");
            var stderr = script.StandardError.ReadToEndAsync();
            using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(3));
            Assert.Equal("ready", await script.StandardOutput.ReadLineAsync(cts.Token));
            victim.Kill();
            await script.StandardInput.WriteLineAsync("killed");
            await script.StandardInput.FlushAsync(cts.Token);
            await script.WaitForExitAsync(cts.Token);
            var output = await script.StandardOutput.ReadToEndAsync(cts.Token);
            Assert.True(script.ExitCode == 0, $"etcd3 watch across the kill of node {victim.NodeId} failed:\n{output}\n{await stderr}");
            Assert.Contains("ok watchAcrossKill", output, StringComparison.Ordinal);

            victim.Start();
            await c.WaitForLeaderAsync();
            await c.WaitReadyAsync();
        }
    }

    /// <summary>dotnet-etcd: a watch whose member dies is resumed by the application from the last revision it saw
    /// (the pattern its docs describe), on a client of the surviving members; nothing is lost or repeated.</summary>
    [Fact]
    public async Task DotnetEtcdWatchResumedFromTheLastRevisionAfterAKill()
    {
        using var c = new LocalCluster(3);
        c.StartAll();
        var leader = await c.WaitForLeaderAsync();
        await c.WaitReadyAsync();
        var prefix = ByteString.CopyFromUtf8("dk/");
        var seen = new ConcurrentQueue<(long Revision, string Key)>();
        void OnResponse(WatchResponse r)
        {
            foreach (var e in r.Events)
            {
                seen.Enqueue((e.Kv.ModRevision, e.Kv.Key.ToStringUtf8()));
            }
        }

        using var onLeader = new EtcdClient("http://" + leader.Grpc, configureChannelOptions: o => o.Credentials = ChannelCredentials.Insecure);
        var start = (await onLeader.PutAsync("dk/00", "v")).Header.Revision;
        using var cts = new CancellationTokenSource();
        await onLeader.WatchAsync(
            new WatchRequest { CreateRequest = new WatchCreateRequest { Key = prefix, RangeEnd = EtcdClient.GetRangeEnd(prefix), StartRevision = start } },
            OnResponse,
            cancellationToken: cts.Token);
        for (var i = 1; i < 5; i++)
        {
            await onLeader.PutAsync($"dk/{i:D2}", "v");
        }

        await Eventually.TrueAsync(() => seen.Count >= 5, TimeSpan.FromSeconds(60), "the watcher saw the first puts");
        leader.Kill();
        await cts.CancelAsync();
        var survivors = string.Join(',', c.Nodes.Where(n => n.IsRunning).Select(n => "http://" + n.Grpc));
        using var client = new EtcdClient(survivors, configureChannelOptions: o => o.Credentials = ChannelCredentials.Insecure);
        await c.WaitForLeaderAsync();
        for (var i = 5; i < 10; i++)
        {
            await Eventually.TrueAsync(
                async () =>
                {
                    try
                    {
                        await client.PutAsync($"dk/{i:D2}", "v");
                        return true;
                    }
                    catch (RpcException)
                    {
                        return false; // no leader yet
                    }
                },
                TimeSpan.FromSeconds(60),
                "a put after the kill succeeded");
        }

        using var cts2 = new CancellationTokenSource();
        await client.WatchAsync(
            new WatchRequest { CreateRequest = new WatchCreateRequest { Key = prefix, RangeEnd = EtcdClient.GetRangeEnd(prefix), StartRevision = seen.Last().Revision + 1 } },
            OnResponse,
            cancellationToken: cts2.Token);
        await Eventually.TrueAsync(() => seen.Count >= 10, TimeSpan.FromSeconds(60), "the resumed watcher saw the puts after the kill");
        Assert.Equal(Enumerable.Range(0, 10).Select(i => $"dk/{i:D2}"), seen.Select(e => e.Key));
        Assert.Equal(seen.Select(e => e.Revision).Order(), seen.Select(e => e.Revision));
        await cts2.CancelAsync();
    }
}
