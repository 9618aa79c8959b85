namespace RaftKv.EndToEnd.Tests.Etcd;

/// <summary>
/// What etcdctl 3.4 is told when a membership call cannot be done (docs/api.md, "Learners"): a second learner while one
/// is listed gets etcd 3.4's <c>etcdserver: too many learner members in cluster</c> (MAX_LEARNERS, default 1), and
/// <c>member update</c> of the leader (here the only voter) is refused with FAILED_PRECONDITION saying to move
/// leadership first, after etcd's own checks (unknown member, URL in use, bad URL); the member's own URL again
/// succeeds; none changes the membership. A successful move: <see cref="EtcdctlMemberUpdateTests"/>.
/// </summary>
public sealed class EtcdctlMemberLimitsTests
{
    [Fact]
    public async Task SecondLearnerAndMemberUpdateAreRefusedWithEtcdsAnswers()
    {
        using var c = new LocalCluster(1);
        c.StartAll();
        await c.WaitForLeaderAsync();
        await c.WaitReadyAsync();
        var node = c.Nodes[0];

        var first = (await Etcdctl.RunAsync(node.Grpc, "member", "add", "n2", "--learner", $"--peer-urls=http://127.0.0.1:{ServerProcess.FreePort()}")).Ok();
        Assert.Contains("added to cluster", first.Out, StringComparison.Ordinal);
        var second = await Etcdctl.RunAsync(node.Grpc, "member", "add", "n3", "--learner", $"--peer-urls=http://127.0.0.1:{ServerProcess.FreePort()}");
        Assert.True(second.Code != 0 && second.Err.Contains("etcdserver: too many learner members in cluster", StringComparison.Ordinal), second.ToString());

        var update = await Etcdctl.RunAsync(node.Grpc, "member", "update", "1", $"--peer-urls=http://127.0.0.1:{ServerProcess.FreePort()}");
        Assert.True(update.Code != 0, update.ToString());
        Assert.Contains("code = FailedPrecondition", update.Err, StringComparison.Ordinal);
        Assert.Contains("it is the leader: move leadership to another member first", update.Err, StringComparison.Ordinal);

        // etcd's checks come first: unknown member, a URL another member has, a URL that does not parse; the member's
        // own URL again is a no-op that succeeds (etcd's answer).
        var learnerUrl = Assert.Single(
            (await Etcdctl.RunAsync(node.Grpc, "member", "list", "-w", "json")).Ok().Json.GetProperty("members").EnumerateArray(),
            m => m.TryGetProperty("isLearner", out var l) && l.GetBoolean()).GetProperty("peerURLs")[0].GetString();
        foreach (var (args, error) in new[]
        {
            (new[] { "ff", $"--peer-urls=http://127.0.0.1:{ServerProcess.FreePort()}" }, "etcdserver: member not found"),
            (new[] { "1", "--peer-urls=" + learnerUrl }, "etcdserver: Peer URLs already exists"),
            (new[] { "1", "--peer-urls=http://127.0.0.1:1,http://127.0.0.1:2" }, "etcdserver: given member URLs are invalid"), // RaftKv: one Raft address per member
        })
        {
            var refused = await Etcdctl.RunAsync(node.Grpc, ["member", "update", .. args]);
            Assert.True(refused.Code != 0 && refused.Err.Contains(error, StringComparison.Ordinal), refused.ToString());
        }

        var same = (await Etcdctl.RunAsync(node.Grpc, "member", "update", "1", $"--peer-urls=http://127.0.0.1:{node.RaftPort}")).Ok();
        Assert.Contains("updated in cluster", same.Out, StringComparison.Ordinal);

        // Nothing changed: the voter keeps its peer URL, and one learner is listed.
        var list = (await Etcdctl.RunAsync(node.Grpc, "member", "list", "-w", "json")).Ok().Json.GetProperty("members").EnumerateArray().ToList();
        Assert.Equal(2, list.Count);
        var voter = Assert.Single(list, m => !(m.TryGetProperty("isLearner", out var l) && l.GetBoolean()));
        Assert.Equal([$"http://127.0.0.1:{node.RaftPort}"], voter.GetProperty("peerURLs").EnumerateArray().Select(u => u.GetString()));
    }
}
