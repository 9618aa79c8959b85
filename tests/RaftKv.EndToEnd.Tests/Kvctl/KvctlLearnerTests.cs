using System.Text.Json;

namespace RaftKv.EndToEnd.Tests.Kvctl;

/// <summary>
/// Learners through kvctl on real processes (docs/operations.md, "Learners" and "kvctl"): <c>member add --learner</c>
/// on a three-node cluster, a second learner refused while one is listed (MAX_LEARNERS, default 1: exit 4), the learner
/// started with <c>LEARNER=true</c> and listed as a learner by <c>member list</c> (simple and JSON), <c>member promote</c>
/// retried (exit 3) until it has caught up, then listed as a voter, and finally <c>member remove</c>.
/// </summary>
public sealed class KvctlLearnerTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task LearnerIsAddedListedPromotedAndRemovedWithKvctl()
    {
        using var c = new LocalCluster(3);
        c.StartAll();
        await c.WaitForLeaderAsync();
        await c.WaitReadyAsync();
        var endpoints = string.Join(',', c.Nodes.Select(n => n.Grpc));
        var peers = string.Join(',', c.Nodes.Select(v => $"{v.NodeId}=127.0.0.1:{v.RaftPort}"));
        Ok(await KvctlRunner.RunAsync(endpoints, "put", "before/learner", "v1"));

        var raft = ServerProcess.FreePort();
        var add = Ok(await KvctlRunner.RunAsync(endpoints, "member", "add", "4", $"127.0.0.1:{raft}", "--learner"));
        Assert.Contains("learner added", add.Out, StringComparison.Ordinal);

        var second = await KvctlRunner.RunAsync(endpoints, "member", "add", "5", $"127.0.0.1:{ServerProcess.FreePort()}", "--learner");
        Assert.True(second.Code == 4 && second.Err.Contains("too many learner members", StringComparison.Ordinal), $"exit {second.Code}: {second.Err}");

        using var learner = new ServerProcess(4, Path.Combine(c.Root, "n4"), ServerProcess.FreePort(), ServerProcess.FreePort(), raft, $"{peers},4=127.0.0.1:{raft}", new Dictionary<string, string> { ["LEARNER"] = "true" });
        learner.Start();
        await Eventually.TrueAsync(async () => await ListedAsync(endpoints, 4) == true, Deadline, "member list -w json shows member 4 as a learner");
        var simple = Ok(await KvctlRunner.RunAsync(endpoints, "member", "list"));
        Assert.Contains("\tLEARNER", simple.Out, StringComparison.Ordinal);
        Assert.Contains($"4\t127.0.0.1:{raft}\t", simple.Out, StringComparison.Ordinal);
        Assert.Contains("\tlearner", simple.Out.Split('\n').Single(l => l.StartsWith("4\t", StringComparison.Ordinal)), StringComparison.Ordinal);

        (int Code, string Out, string Err) promote = default;
        await Eventually.TrueAsync(
            async () =>
            {
                promote = await KvctlRunner.RunAsync(endpoints, "member", "promote", "4");
                Assert.True(promote.Code is 0 or 3, $"member promote exited {promote.Code}: {promote.Err}");
                return promote.Code == 0;
            },
            Deadline,
            "kvctl member promote 4 succeeds once the learner has caught up");
        Assert.Contains("member 4 promoted", promote.Out, StringComparison.Ordinal);
        await Eventually.TrueAsync(async () => await ListedAsync(endpoints, 4) == false, Deadline, "member 4 is listed as a voter");
        (int Code, string Out, string Err) read = default;
        try
        {
            await Eventually.TrueAsync(
                async () => (read = await KvctlRunner.RunAsync(learner.Grpc, "get", "before/learner")).Out.StartsWith("v1", StringComparison.Ordinal),
                Deadline,
                "the promoted member serves linearizable reads");
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"{e.Message}; last kvctl get: exit {read.Code}: {read.Err}\npromoted member's log (tail):\n{Tail(learner.Log(), 80)}", e);
        }

        var notLearner = await KvctlRunner.RunAsync(endpoints, "member", "promote", "1");
        Assert.True(notLearner.Code == 4, $"promote of a voter: exit {notLearner.Code}: {notLearner.Err}");

        Ok(await KvctlRunner.RunAsync(endpoints, "member", "remove", "4"));
        await Eventually.TrueAsync(async () => await ListedAsync(endpoints, 4) is null, Deadline, "member 4 is listed no more");
    }

    private static string Tail(string log, int lines) => string.Join('\n', log.Split('\n').TakeLast(lines));

    private static (int Code, string Out, string Err) Ok((int Code, string Out, string Err) r)
    {
        Assert.True(r.Code == 0, $"kvctl exited {r.Code}: {r.Err}");
        return r;
    }

    /// <summary>Whether <c>member list -w json</c> lists <paramref name="id"/> as a learner (true), a voter (false), or not at all (null).</summary>
    private static async Task<bool?> ListedAsync(string endpoints, long id)
    {
        var list = await KvctlRunner.RunAsync(endpoints, "member", "list", "-w", "json");
        if (list.Code != 0)
        {
            return null;
        }

        var member = JsonDocument.Parse(list.Out).RootElement.GetProperty("members").EnumerateArray().FirstOrDefault(m => m.GetProperty("id").GetInt64() == id);
        return member.ValueKind == JsonValueKind.Undefined ? null : member.GetProperty("is_learner").GetBoolean();
    }
}
