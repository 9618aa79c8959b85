using System.Globalization;

namespace RaftKv.EndToEnd.Tests.Etcd;

/// <summary>
/// etcd's runtime reconfiguration order with etcd's own CLI on real processes: <c>etcdctl member add</c> of a voter
/// first, then start it (docs/operations.md, "Adding a voter the etcd way"). The add answers at once, as etcd's, and
/// the member is listed as unstarted; unlike etcd the one-voter cluster keeps accepting writes meanwhile (the new
/// member joins no quorum before it has caught up). Started as a joining member, it is caught up and added by the
/// leader, listed under its own id, holds the data, and votes (leadership can move to it). A second unstarted voter is
/// removed with <c>member remove</c> of the id the add printed.
/// </summary>
public sealed class EtcdctlMemberAddThenStartTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task AVoterAddedFirstAndStartedAfterwardsJoinsAndVotes()
    {
        using var c = new LocalCluster(1);
        c.StartAll();
        await c.WaitForLeaderAsync();
        await c.WaitReadyAsync();
        var first = c.Nodes[0];
        (await Etcdctl.RunAsync(first.Grpc, "put", "before", "1")).Ok();

        var raft = ServerProcess.FreePort();
        var add = (await Etcdctl.RunAsync(first.Grpc, "member", "add", "n2", $"--peer-urls=http://127.0.0.1:{raft}")).Ok();
        Assert.Contains("added to cluster", add.Out, StringComparison.Ordinal);
        Assert.Contains("ETCD_INITIAL_CLUSTER_STATE=\"existing\"", add.Out, StringComparison.Ordinal);
        var listed = (await Etcdctl.RunAsync(first.Grpc, "member", "list")).Ok();
        Assert.Contains($"unstarted, , http://127.0.0.1:{raft}", listed.Out, StringComparison.Ordinal);
        (await Etcdctl.RunAsync(first.Grpc, "put", "while-unstarted", "1")).Ok(); // etcd would wait for a quorum of 2 here

        using var second = new ServerProcess(2, Path.Combine(c.Root, "n2"), ServerProcess.FreePort(), ServerProcess.FreePort(), raft, $"1=127.0.0.1:{first.RaftPort},2=127.0.0.1:{raft}", new Dictionary<string, string> { ["INITIAL_CLUSTER_STATE"] = "existing" });
        second.Start();
        await Eventually.TrueAsync(
            async () =>
            {
                var r = await Etcdctl.RunAsync(first.Grpc, "member", "list");
                return r.Code == 0 && r.Out.Contains($"2, started, raftkv-2, http://127.0.0.1:{raft}", StringComparison.Ordinal) && !r.Out.Contains("unstarted", StringComparison.Ordinal);
            },
            Deadline,
            "member 2 is listed under its own id, started");
        await Eventually.TrueAsync(
            async () =>
            {
                var r = await Etcdctl.RunAsync(second.Grpc, "get", "while-unstarted", "--consistency=s", "--print-value-only");
                return r.Code == 0 && r.Out.Trim() == "1";
            },
            Deadline,
            "member 2 holds the data");

        // It votes: leadership moves to it, and writes commit through it.
        await Eventually.TrueAsync(async () => (await Etcdctl.RunAsync(first.Grpc, "move-leader", "2")).Code == 0, Deadline, "leadership moves to member 2");
        (await Etcdctl.RunAsync(second.Grpc, "put", "after", "2")).Ok();

        // Another voter added and never started: removed by the id the add printed.
        var third = (await Etcdctl.RunAsync(second.Grpc, "member", "add", "n3", $"--peer-urls=http://127.0.0.1:{ServerProcess.FreePort()}")).Ok();
        var id = third.Out.Split(' ')[1]; // "Member <hex id> added to cluster <hex id>"
        Assert.True(ulong.TryParse(id, NumberStyles.HexNumber, CultureInfo.InvariantCulture, out _), third.Out);
        (await Etcdctl.RunAsync(second.Grpc, "member", "remove", id)).Ok();
        var left = (await Etcdctl.RunAsync(second.Grpc, "member", "list", "-w", "json")).Ok().Json.GetProperty("members");
        Assert.Equal(2, left.GetArrayLength());
        (await Etcdctl.RunAsync(first.Grpc, "put", "end", "3")).Ok();
    }
}
