namespace RaftKv.EndToEnd.Tests.Etcd;

/// <summary>
/// etcd's replacement of a dead machine with etcd's own CLI on real processes: a member dies, the others restart
/// (a maintenance window, a power cut), and <c>etcdctl member list</c> still shows the dead member under the id it had,
/// which <c>etcdctl member remove</c> takes. The ids come from members' metadata, which a dead member cannot serve;
/// before each node remembered them (<c>{DATA_DIR}/member-meta</c>) it was listed under id 0 and the removal failed.
/// </summary>
public sealed class EtcdctlDeadMemberTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task ADeadMemberKeepsItsIdAcrossTheOthersRestartAndIsRemovedByIt()
    {
        using var c = new LocalCluster(3);
        c.StartAll();
        await c.WaitForLeaderAsync();
        await c.WaitReadyAsync();
        var dead = c.Nodes[2];
        var peerUrl = $"http://127.0.0.1:{dead.RaftPort}";
        var live = string.Join(',', c.Nodes.Take(2).Select(n => n.Grpc));
        string? id = null;
        await Eventually.TrueAsync(async () => (id = IdOf((await Etcdctl.RunAsync(c.Nodes[0].Grpc, "member", "list")).Ok().Out, peerUrl)) is not null, Deadline, "the member is listed with its id");

        dead.Kill();
        foreach (var n in c.Nodes.Take(2))
        {
            await n.TerminateAsync(TimeSpan.FromSeconds(30));
        }

        foreach (var n in c.Nodes.Take(2))
        {
            n.Start();
        }

        await Eventually.TrueAsync(async () => (await Etcdctl.RunAsync(live, "put", "after-restart", "1")).Code == 0, Deadline, "the two restarted members elect a leader");
        var listed = (await Etcdctl.RunAsync(c.Nodes[0].Grpc, "member", "list")).Ok().Out;
        Assert.True(IdOf(listed, peerUrl) == id, $"the dead member is listed under {id}:\n{listed}");

        var removed = (await Etcdctl.RunAsync(live, "member", "remove", id!)).Ok();
        Assert.Matches($@"Member\s+{id} removed from cluster", removed.Out); // etcdctl pads the hex id to 16
        await Eventually.TrueAsync(async () => IdOf((await Etcdctl.RunAsync(c.Nodes[1].Grpc, "member", "list")).Ok().Out, peerUrl) is null, Deadline, "the dead member is listed no more");
        (await Etcdctl.RunAsync(live, "put", "after-removal", "1")).Ok();
    }

    /// <summary>The hex id on the <c>member list</c> line of the member with <paramref name="peerUrl"/>, or null.</summary>
    private static string? IdOf(string memberList, string peerUrl)
        => memberList.Split('\n').FirstOrDefault(l => l.Contains(", " + peerUrl + ",", StringComparison.Ordinal))?.Split(',')[0].Trim();
}
