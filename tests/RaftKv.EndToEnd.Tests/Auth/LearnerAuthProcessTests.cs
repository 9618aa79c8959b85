using RaftKv.EndToEnd.Tests.Etcd;

namespace RaftKv.EndToEnd.Tests.Auth;

/// <summary>
/// A learner joins a cluster with auth enabled (docs/operations.md, "Learners"), in both token modes: an empty learner
/// holds no user and cannot sign a member token, so it presents the cluster's <c>LEARNER_TOKEN</c> on its log stream.
/// With a wrong token the leader refuses the stream (the learner logs UNAUTHENTICATED; it never gets to say its NODE_ID,
/// so promote 4 finds no such member); restarted
/// with the right one, it catches up, is promoted and serves linearizable reads as a voter. The token is in no log.
/// </summary>
public sealed class LearnerAuthProcessTests
{
    private const string RootPassword = "root-Pw-4b1d";
    private const string LearnerToken = "learner-token-5f0e9a7c2d41";
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(120);

    [Theory]
    [InlineData("jwt")]
    [InlineData("simple")]
    public async Task LearnerWithTheClusterLearnerTokenCatchesUpAndIsPromotedWithAuthOn(string tokenMode)
    {
        var env = new Dictionary<string, string> { ["LEARNER_TOKEN"] = LearnerToken, ["AUTH_TOKEN"] = tokenMode };
        using var c = new LocalCluster(3, env);
        c.StartAll();
        await c.WaitForLeaderAsync();
        await c.WaitReadyAsync();
        var endpoints = string.Join(',', c.Nodes.Select(n => n.Grpc));
        var root = new[] { "--user", "root:" + RootPassword };
        (await Etcdctl.RunAsync(endpoints, "put", "a/1", "before-auth")).Ok();
        (await Etcdctl.RunAsync(endpoints, "user", "add", "root:" + RootPassword, "--interactive=false")).Ok();
        (await Etcdctl.RunAsync(endpoints, "auth", "enable")).Ok();
        (await Etcdctl.RunAsync(endpoints, [.. root, "put", "a/2", "after-auth"])).Ok();

        var raft = ServerProcess.FreePort();
        (await Etcdctl.RunAsync(endpoints, [.. root, "member", "add", "n4", "--learner", $"--peer-urls=http://127.0.0.1:{raft}"])).Ok();
        var peers = string.Join(',', c.Nodes.Select(v => $"{v.NodeId}=127.0.0.1:{v.RaftPort}")) + $",4=127.0.0.1:{raft}";
        var dataDir = Path.Combine(c.Root, "n4");
        var (http, grpc) = (ServerProcess.FreePort(), ServerProcess.FreePort());

        // A wrong token: the stream is refused, so the learner never catches up and cannot be promoted.
        using (var wrong = new ServerProcess(4, dataDir, http, grpc, raft, peers, new Dictionary<string, string>(env) { ["LEARNER"] = "true", ["LEARNER_TOKEN"] = "not-the-cluster-token-1" }))
        {
            wrong.Start();
            await Eventually.TrueAsync(() => Task.FromResult(wrong.Log().Contains("StatusCode=\"Unauthenticated\"", StringComparison.Ordinal)), Deadline, "the learner with a wrong token is refused");
            // Refused, so it never said its NODE_ID: still listed under its provisional id, and member 4 is not found.
            var refused = await Etcdctl.RunAsync(endpoints, [.. root, "member", "promote", "4"]);
            Assert.True(refused.Code != 0 && refused.Err.Contains("etcdserver: member not found", StringComparison.Ordinal), refused.ToString());
            wrong.Kill();
        }

        using var learner = new ServerProcess(4, dataDir, http, grpc, raft, peers, new Dictionary<string, string>(env) { ["LEARNER"] = "true" });
        learner.Start();
        EtcdctlResult promote = null!;
        await Eventually.TrueAsync(
            async () =>
            {
                promote = await Etcdctl.RunAsync(endpoints, [.. root, "member", "promote", "4"]);
                // Until it connected it has no id 4 (member not found); until it caught up it is not in sync.
                Assert.True(promote.Code == 0 || promote.Err.Contains("in sync with leader", StringComparison.Ordinal) || promote.Err.Contains("etcdserver: member not found", StringComparison.Ordinal), promote.ToString());
                return promote.Code == 0;
            },
            Deadline,
            "member promote 4 is accepted once the learner (with the cluster's learner token) has caught up");

        await Eventually.TrueAsync(
            async () => (await Etcdctl.RunAsync(learner.Grpc, [.. root, "get", "a/2", "--print-value-only"])).Out.Trim() == "after-auth",
            Deadline,
            "the promoted member serves a linearizable read of data written after auth was enabled");
        Assert.All(c.Nodes.Append(learner), n => Assert.DoesNotContain(LearnerToken, n.Log(), StringComparison.Ordinal));
    }
}
