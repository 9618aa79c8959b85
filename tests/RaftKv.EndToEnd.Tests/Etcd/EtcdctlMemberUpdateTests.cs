using System.Net.Http.Json;
using System.Text.Json;

namespace RaftKv.EndToEnd.Tests.Etcd;

/// <summary>
/// Moving a node to a new Raft address with etcd's own CLI on three real processes (docs/operations.md, "Moving a
/// node"): etcd's errors first (unknown id, a URL another member has, bad URLs; the HTTP route's too), a refusal while the move would leave
/// no reachable majority, then <c>etcdctl member update</c> of a follower, the node stopped and restarted at the new
/// port with its data directory. Every member lists it at the new URL under the same id, it is a voter again (it can
/// be made leader, and writes succeed with the third node stopped, so the quorum needs it) and every acknowledged key
/// is readable on it.
/// </summary>
public sealed class EtcdctlMemberUpdateTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task FollowerMovesToANewPeerUrlAndRejoinsAsTheSameVoter()
    {
        using var c = new LocalCluster(3);
        c.StartAll();
        var leader = await c.WaitForLeaderAsync();
        await c.WaitReadyAsync();
        var followers = c.Nodes.Where(n => n != leader).ToList();
        var mover = followers[0];
        var other = followers[1];
        var all = string.Join(',', c.Nodes.Select(n => n.Grpc));
        var acknowledged = new List<string>();
        async Task PutAsync(string endpoints, string key)
        {
            (await Etcdctl.RunAsync(endpoints, "put", key, "v-" + key)).Ok();
            acknowledged.Add(key);
        }

        for (var i = 0; i < 10; i++)
        {
            await PutAsync(all, $"before/{i}");
        }

        // etcd's checks and answers.
        var newRaft = ServerProcess.FreePort();
        var moverId = mover.NodeId.ToString("x", System.Globalization.CultureInfo.InvariantCulture);
        foreach (var (args, error) in new[]
        {
            (new[] { "ff", $"--peer-urls=http://127.0.0.1:{newRaft}" }, "etcdserver: member not found"),
            (new[] { moverId, $"--peer-urls=http://127.0.0.1:{other.RaftPort}" }, "etcdserver: Peer URLs already exists"),
            (new[] { moverId, "--peer-urls=http://127.0.0.1:1,http://127.0.0.1:2" }, "etcdserver: given member URLs are invalid"),
        })
        {
            var refused = await Etcdctl.RunAsync(all, ["member", "update", .. args]);
            Assert.True(refused.Code != 0 && refused.Err.Contains(error, StringComparison.Ordinal), refused.ToString());
        }

        // The same over HTTP (PUT /cluster/members/{id}), through a follower: the leader cannot move (move leadership
        // first), an unknown id, a bad address.
        foreach (var (id, address, status, code) in new[]
        {
            (leader.NodeId, $"127.0.0.1:{newRaft}", 409, "member_update_refused"),
            (99L, $"127.0.0.1:{newRaft}", 404, "not_found"),
            (mover.NodeId, "no-port", 400, "invalid_argument"),
        })
        {
            using var put = await c.Http.PutAsJsonAsync($"{other.Http}/cluster/members/{id}", new { raft_address = address });
            var body = await put.Content.ReadFromJsonAsync<JsonElement>();
            Assert.True((int)put.StatusCode == status && body.GetProperty("code").GetString() == code, $"{id} {address}: {(int)put.StatusCode} {body}");
        }

        // With the third node down, removing the mover's old address would leave one reachable voter of two: refused
        // (kvctl member update, which calls etcd's MemberUpdate: exit 4, refused).
        other.Kill();
        await Eventually.TrueAsync(async () => !await AvailableAsync(c, leader, other.NodeId), Deadline, "the leader sees the stopped node as unavailable");
        var unsafeMove = await KvctlRunner.RunAsync(leader.Grpc, "member", "update", mover.NodeId.ToString(System.Globalization.CultureInfo.InvariantCulture), $"127.0.0.1:{newRaft}");
        Assert.True(unsafeMove.Code == 4 && unsafeMove.Err.Contains("FailedPrecondition", StringComparison.Ordinal) && unsafeMove.Err.Contains("not a majority", StringComparison.Ordinal), $"kvctl exited {unsafeMove.Code}: {unsafeMove.Err}");
        other.Start();
        await Eventually.TrueAsync(async () => await AvailableAsync(c, leader, other.NodeId), Deadline, "the restarted node is available again");
        Assert.Equal([$"http://127.0.0.1:{mover.RaftPort}"], await PeerUrlsAsync(leader, mover.NodeId));
        var same = await KvctlRunner.RunAsync(other.Grpc, "member", "update", mover.NodeId.ToString(System.Globalization.CultureInfo.InvariantCulture), $"127.0.0.1:{mover.RaftPort}");
        Assert.True(same.Code == 0 && same.Out.Contains($"is at 127.0.0.1:{mover.RaftPort} (unchanged)", StringComparison.Ordinal), $"its own address again: kvctl exited {same.Code}: {same.Out} {same.Err}");

        // The move: listed at the new URL at once; the old address is out of the configuration, writes go on.
        var update = (await Etcdctl.RunAsync(all, "member", "update", moverId, $"--peer-urls=http://127.0.0.1:{newRaft}")).Ok();
        Assert.Contains("updated in cluster", update.Out, StringComparison.Ordinal);
        await Eventually.TrueAsync(async () => (await PeerUrlsAsync(other, mover.NodeId)).SequenceEqual([$"http://127.0.0.1:{newRaft}"]), Deadline, "the other follower lists the mover at its new URL");
        for (var i = 0; i < 10; i++)
        {
            await PutAsync($"{leader.Grpc},{other.Grpc}", $"moving/{i}");
        }

        await Eventually.TrueAsync(() => mover.Log().Contains($"was moved to Raft address 127.0.0.1:{newRaft}", StringComparison.Ordinal), Deadline, "the node at the old address tells the operator where to restart it");

        // Restart it at the new Raft port with its data directory (same NODE_ID and client ports; its PEERS entry,
        // which is the Raft address it advertises, says the new port).
        await mover.TerminateAsync(Deadline);
        var peers = string.Join(',', c.Nodes.Select(n => $"{n.NodeId}=127.0.0.1:{(n == mover ? newRaft : n.RaftPort)}"));
        using var moved = new ServerProcess(mover.NodeId, mover.DataDir, mover.HttpPort, mover.GrpcPort, newRaft, peers);
        moved.Start();
        ServerProcess[] members = [leader, other, moved];
        await Eventually.TrueAsync(
            async () =>
            {
                foreach (var m in members)
                {
                    var urls = await PeerUrlsAsync(m, mover.NodeId);
                    if (!urls.SequenceEqual([$"http://127.0.0.1:{newRaft}"]) || (await MemberListAsync(m)).Count != 3)
                    {
                        return false;
                    }
                }

                return await AvailableAsync(c, leader, mover.NodeId);
            },
            Deadline,
            "every member lists three members, the moved one at its new URL, and the leader reaches it");

        // A voter again, not a frozen stand-by: it can be made leader, and with the other follower stopped, a write
        // needs it for the quorum.
        (await Etcdctl.RunAsync(all, "move-leader", moverId)).Ok();
        await Eventually.TrueAsync(async () => (await c.Http.GetFromJsonAsync<JsonElement>($"{moved.Http}/health")).GetProperty("role").GetString() == "leader", Deadline, "the moved member leads");
        other.Kill();
        await Eventually.TrueAsync(
            async () => (await Etcdctl.RunAsync($"{leader.Grpc},{moved.Grpc}", "put", "after/quorum", "v-after/quorum")).Code == 0,
            Deadline,
            "a write commits on the leader and the moved member alone");
        acknowledged.Add("after/quorum");
        foreach (var key in acknowledged)
        {
            var got = (await Etcdctl.RunAsync(moved.Grpc, "get", key, "--print-value-only")).Ok();
            Assert.Equal("v-" + key, got.Out.Trim());
        }

        Assert.Equal(0, (await MemberListAsync(moved)).Count(m => m.GetProperty("peerURLs")[0].GetString() == $"http://127.0.0.1:{mover.RaftPort}"));
    }

    private static async Task<List<JsonElement>> MemberListAsync(ServerProcess node)
    {
        var r = await Etcdctl.RunAsync(node.Grpc, "member", "list", "-w", "json");
        return r.Code != 0 ? [] : [.. r.Json.GetProperty("members").EnumerateArray()];
    }

    private static async Task<List<string?>> PeerUrlsAsync(ServerProcess node, long id)
        => (await MemberListAsync(node)).Where(m => m.TryGetProperty("ID", out var e) && e.GetInt64() == id)
            .SelectMany(m => m.GetProperty("peerURLs").EnumerateArray().Select(u => u.GetString())).ToList();

    /// <summary>Whether <paramref name="node"/> lists member <paramref name="id"/> as available (GET /cluster/members).</summary>
    private static async Task<bool> AvailableAsync(LocalCluster c, ServerProcess node, long id)
    {
        try
        {
            var body = await c.Http.GetFromJsonAsync<JsonElement>($"{node.Http}/cluster/members");
            return body.GetProperty("members").EnumerateArray().Any(m => m.GetProperty("id").GetInt64() == id && m.GetProperty("available").GetBoolean());
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }
}
