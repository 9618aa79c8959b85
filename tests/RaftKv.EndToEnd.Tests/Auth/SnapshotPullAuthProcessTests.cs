using RaftKv.EndToEnd.Tests.Etcd;

namespace RaftKv.EndToEnd.Tests.Auth;

/// <summary>
/// A voting member whose disk was wiped rejoins a cluster with auth enabled by pulling the leader's snapshot over the
/// internal gRPC stream (SNAPSHOT_PULL_ABOVE_BYTES=0: every snapshot is pulled; docs/architecture.md, "Snapshots too large
/// for one Raft request"). It holds no user and no token key, and no LEARNER_TOKEN is set: the pull is authenticated by
/// the credential in the leader's snapshot reference, which only the Raft transport delivered to it.
/// </summary>
public sealed class SnapshotPullAuthProcessTests
{
    private const string RootPassword = "root-Pw-91c3";
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(120);

    private static string Tail(string log) => log.Length > 6000 ? log[^6000..] : log;

    [Fact]
    public async Task AWipedMemberRejoinsByPullingTheSnapshotWithAuthOn()
    {
        var env = new Dictionary<string, string> { ["SNAPSHOT_PULL_ABOVE_BYTES"] = "0", ["SNAPSHOT_CATCHUP_ENTRIES"] = "0" };
        using var c = new LocalCluster(3, env);
        c.StartAll();
        var leader = await c.WaitForLeaderAsync();
        await c.WaitReadyAsync();
        var root = new[] { "--user", "root:" + RootPassword };
        (await Etcdctl.RunAsync(leader.Grpc, "user", "add", "root:" + RootPassword, "--interactive=false")).Ok();
        (await Etcdctl.RunAsync(leader.Grpc, "auth", "enable")).Ok();
        (await Etcdctl.RunAsync(leader.Grpc, [.. root, "put", "p/1", "before"])).Ok();

        var wiped = c.Nodes.First(n => n != leader);
        wiped.Kill();
        Directory.Delete(wiped.DataDir, recursive: true);
        (await Etcdctl.RunAsync(leader.Grpc, [.. root, "put", "p/2", "while-away"])).Ok();
        (await Etcdctl.RunAsync(leader.Grpc, [.. root, "defrag"])).Ok(); // a new snapshot; the log is dropped up to it

        wiped.Start("--initial-cluster-state", "existing");
        try
        {
            await Eventually.TrueAsync(
                async () =>
                {
                    var got = await Etcdctl.RunAsync(wiped.Grpc, [.. root, "get", "p/2", "--consistency=s", "--print-value-only"]);
                    return got.Code == 0 && got.Out.Trim() == "while-away";
                },
                Deadline,
                "the wiped member serves the data written while it was away");
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"{e.Message}\n--- wiped member's log (tail) ---\n{Tail(wiped.Log())}\n--- leader's log (tail) ---\n{Tail(leader.Log())}", e);
        }
        Assert.True(wiped.Log().Contains("Installed the pulled snapshot", StringComparison.Ordinal), "no pulled snapshot installed:\n" + Tail(wiped.Log()));
        Assert.DoesNotContain("Unauthenticated", wiped.Log(), StringComparison.Ordinal);

        // DotNext replicates to it again: a new write reaches it.
        (await Etcdctl.RunAsync(leader.Grpc, [.. root, "put", "p/3", "after"])).Ok();
        await Eventually.TrueAsync(
            async () => (await Etcdctl.RunAsync(wiped.Grpc, [.. root, "get", "p/3", "--consistency=s", "--print-value-only"])).Out.Trim() == "after",
            Deadline,
            "the rejoined member gets a new write");
    }
}
