namespace RaftKv.EndToEnd.Tests.Etcd;

/// <summary>
/// Learners with etcd's own CLI on real processes (docs/operations.md, "Learners"): three voters under a put
/// load; <c>etcdctl member add --learner</c>, then the learner started with <c>LEARNER=true</c>. Writes never
/// fail (client retries aside), the learner catches up and serves serializable reads, is listed as a learner by
/// every voter, refuses other calls with etcd's learner error; SIGKILLed, it changes nothing for the voters,
/// and promote is refused until it runs and has caught up again; promoted, it votes (the cluster keeps a quorum
/// of 4 without an original voter). A second learner is removed with <c>member remove</c>.
/// </summary>
public sealed class EtcdctlLearnerTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task LearnerJoinsUnderLoadCatchesUpIsPromotedAndAnotherIsRemoved()
    {
        using var c = new LocalCluster(3);
        c.StartAll();
        await c.WaitForLeaderAsync();
        await c.WaitReadyAsync();
        var voters = c.Nodes.ToList();
        var voterEndpoints = string.Join(',', voters.Select(v => v.Grpc));
        var peers = string.Join(',', voters.Select(v => $"{v.NodeId}=127.0.0.1:{v.RaftPort}"));
        var liveVoters = voters.ToList();
        await using var load = new HttpPutLoad(c.Http, () => liveVoters.Select(v => v.Http).ToList());
        await load.WaitForMoreAsync(20, Deadline);

        // etcdctl member add --learner, like etcd: added first, started afterwards.
        var raft = ServerProcess.FreePort();
        var add = (await Etcdctl.RunAsync(voterEndpoints, "member", "add", "n4", "--learner", $"--peer-urls=http://127.0.0.1:{raft}")).Ok();
        Assert.Contains("added to cluster", add.Out, StringComparison.Ordinal);
        var addedId = System.Text.RegularExpressions.Regex.Match(add.Out, "Member ([0-9a-f]+) added").Groups[1].Value; // etcd's script: ID=$(member add ...); ...; member promote $ID
        using var learner = new ServerProcess(4, Path.Combine(c.Root, "n4"), ServerProcess.FreePort(), ServerProcess.FreePort(), raft, $"{peers},4=127.0.0.1:{raft}", new Dictionary<string, string> { ["LEARNER"] = "true" });
        learner.Start();
        await Eventually.TrueAsync(async () => await AllVotersListAsync(voters, 4, isLearner: true), Deadline, "every voter lists member 4 as a learner");
        await load.WaitForMoreAsync(20, Deadline);
        await AssertCaughtUpAsync(learner, load);

        // What a learner serves: serializable Range and Status; the rest gets etcd's learner error.
        var put = await Etcdctl.RunAsync(learner.Grpc, "put", "via-learner", "x");
        Assert.True(put.Code != 0 && put.Err.Contains("etcdserver: rpc not supported for learner", StringComparison.Ordinal), put.ToString());
        var status = (await Etcdctl.RunAsync(learner.Grpc, "endpoint", "status", "-w", "json")).Ok().Json[0].GetProperty("Status");
        Assert.True(status.GetProperty("isLearner").GetBoolean(), status.ToString());
        Assert.True(status.GetProperty("raftTerm").GetUInt64() > 0, $"a learner reports the term of the log it applied: {status}");

        // SIGKILL the learner: the voters' quorum does not include it, writes go on; promote is refused.
        learner.Kill();
        await load.WaitForMoreAsync(20, Deadline);
        var refused = await Etcdctl.RunAsync(voterEndpoints, "member", "promote", "4");
        Assert.True(refused.Code != 0 && refused.Err.Contains("etcdserver: can only promote a learner member which is in sync with leader", StringComparison.Ordinal), refused.ToString());
        var notLearner = await Etcdctl.RunAsync(voterEndpoints, "member", "promote", "1");
        Assert.True(notLearner.Code != 0 && notLearner.Err.Contains("etcdserver: can only promote a learner member", StringComparison.Ordinal) && !notLearner.Err.Contains("in sync", StringComparison.Ordinal), notLearner.ToString());

        // Restarted, it catches up from where it stopped; then promote is accepted and it is a voter.
        learner.Start();
        await load.WaitForMoreAsync(20, Deadline);
        await AssertCaughtUpAsync(learner, load);
        EtcdctlResult promote = null!;
        await Eventually.TrueAsync(
            async () =>
            {
                promote = await Etcdctl.RunAsync(voterEndpoints, "member", "promote", addedId); // the id member add printed, as with etcd
                Assert.True(promote.Code == 0 || promote.Err.Contains("in sync with leader", StringComparison.Ordinal), promote.ToString());
                return promote.Code == 0;
            },
            Deadline,
            "member promote <the id member add printed> is accepted once the learner has caught up");
        Assert.Contains("promoted", promote.Out, StringComparison.Ordinal);
        await Eventually.TrueAsync(async () => await AllVotersListAsync([.. voters, learner], 4, isLearner: false), Deadline, "every member lists member 4 as a voter");
        (await Etcdctl.RunAsync(learner.Grpc, "put", "via-promoted", "ok")).Ok();

        // Four voters: stop an original one (not the leader); three of four are a quorum, writes go on.
        var leader = await c.WaitForLeaderAsync();
        var stopped = voters.First(v => v != leader);
        liveVoters = [.. voters.Where(v => v != stopped), learner];
        stopped.Kill();
        await load.WaitForMoreAsync(20, Deadline);
        var got = (await Etcdctl.RunAsync(learner.Grpc, "get", "via-promoted")).Ok();
        Assert.Contains("ok", got.Out, StringComparison.Ordinal);

        // member remove of a learner: it stops being fed and listed, and stops.
        var raft5 = ServerProcess.FreePort();
        var live = string.Join(',', liveVoters.Select(v => v.Grpc));
        (await Etcdctl.RunAsync(live, "member", "add", "n5", "--learner", $"--peer-urls=http://127.0.0.1:{raft5}")).Ok();
        using var second = new ServerProcess(5, Path.Combine(c.Root, "n5"), ServerProcess.FreePort(), ServerProcess.FreePort(), raft5, $"{peers},4=127.0.0.1:{raft},5=127.0.0.1:{raft5}", new Dictionary<string, string> { ["LEARNER"] = "true" });
        second.Start();
        await Eventually.TrueAsync(async () => await AllVotersListAsync(liveVoters, 5, isLearner: true), Deadline, "member 5 is listed as a learner");
        await AssertCaughtUpAsync(second, load);
        (await Etcdctl.RunAsync(live, "member", "remove", "5")).Ok();
        await Eventually.TrueAsync(async () => (await ListAsync(liveVoters)).All(ms => ms.All(m => m.Id != 5)), Deadline, "the removed learner is listed by no voter");
        await Eventually.TrueAsync(() => second.ExitCode is not null, Deadline, "the removed learner stops by itself, as etcd's");
        Assert.Equal(0, second.ExitCode);
        Assert.Contains("has been permanently removed from the cluster", second.Log(), StringComparison.Ordinal);

        await load.DisposeAsync();
        Assert.True(load.Failures.Count == 0, "failed writes: " + string.Join("; ", load.Failures.Take(10)));
    }

    /// <summary>The learner's serializable read returns the load's latest acknowledged write (eventually).</summary>
    private static async Task AssertCaughtUpAsync(ServerProcess learner, HttpPutLoad load)
    {
        var last = load.Acknowledged - 1;
        var key = HttpPutLoad.Key(last);
        await Eventually.TrueAsync(
            async () =>
            {
                var r = await Etcdctl.RunAsync(learner.Grpc, "get", key, "--consistency=s", "--print-value-only");
                return r.Code == 0 && r.Out.Trim() == $"v{last}";
            },
            Deadline,
            $"the learner serves {key} (serializable)");
    }

    private static async Task<bool> AllVotersListAsync(IEnumerable<ServerProcess> members, long id, bool isLearner)
        => (await ListAsync(members)).All(ms => ms.Any(m => m.Id == id && m.IsLearner == isLearner));

    private static async Task<List<List<(long Id, bool IsLearner)>>> ListAsync(IEnumerable<ServerProcess> members)
    {
        var lists = new List<List<(long, bool)>>();
        foreach (var m in members)
        {
            var r = await Etcdctl.RunAsync(m.Grpc, "member", "list", "-w", "json");
            if (r.Code != 0)
            {
                lists.Add([]);
                continue;
            }

            lists.Add(r.Json.GetProperty("members").EnumerateArray()
                .Select(e => (e.TryGetProperty("ID", out var id) ? id.GetInt64() : 0, e.TryGetProperty("isLearner", out var l) && l.GetBoolean()))
                .ToList());
        }

        return lists;
    }
}
