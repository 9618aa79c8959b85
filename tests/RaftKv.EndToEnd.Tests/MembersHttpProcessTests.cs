using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace RaftKv.EndToEnd.Tests;

/// <summary>
/// The HTTP member routes on three real processes (docs/api.md, "Members"): list from any node, remove a
/// member through a follower (forwarded to the leader), rebuild it with an empty data directory and add it
/// back over HTTP (docs/operations.md, "Rebuilding a node"); it catches up and serves the data written
/// before; bad input, an unknown id and an existing address get their JSON errors.
/// </summary>
public sealed class MembersHttpProcessTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task ListRemoveAndAddBackAMemberOverHttp()
    {
        using var c = new LocalCluster(3);
        c.StartAll();
        var leader = await c.WaitForLeaderAsync();
        await c.WaitReadyAsync();
        using (var put = await c.Http.PutAsync($"{leader.Http}/kv/members/before", Json(new { value = "kept" })))
        {
            Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        }

        var followers = c.Nodes.Where(n => n != leader).ToList();
        var victim = followers[0];
        var other = followers[1];
        var listed = await MembersAsync(c, other);
        Assert.Equal([1L, 2L, 3L], listed.Select(m => m.GetProperty("id").GetInt64()).Order());
        Assert.All(listed, m => Assert.False(m.GetProperty("is_learner").GetBoolean()));
        Assert.Single(listed, m => m.GetProperty("leader").GetBoolean());

        // Remove through a follower: forwarded to the leader.
        using (var removed = await c.Http.DeleteAsync($"{other.Http}/cluster/members/{victim.NodeId}"))
        {
            var body = await removed.Content.ReadAsStringAsync();
            Assert.True(removed.StatusCode == HttpStatusCode.OK, body);
            Assert.Equal(victim.NodeId, JsonDocument.Parse(body).RootElement.GetProperty("removed").GetInt64());
        }

        await Eventually.TrueAsync(async () => (await MembersAsync(c, leader)).Count == 2, Deadline, "the leader lists two members");

        // Rebuild the removed node empty and add it back over HTTP.
        await victim.TerminateAsync(TimeSpan.FromSeconds(30));
        Directory.Delete(victim.DataDir, recursive: true);
        victim.Start();
        var raft = $"127.0.0.1:{victim.RaftPort}";
        string? addedBody = null;
        await Eventually.TrueAsync(
            async () =>
            {
                // 503 while the restarted node is not reachable yet: retried, as a client would.
                using var added = await c.Http.PostAsync($"{other.Http}/cluster/members", Json(new { raft_address = raft }));
                addedBody = await added.Content.ReadAsStringAsync();
                Assert.True(added.StatusCode is HttpStatusCode.OK or HttpStatusCode.ServiceUnavailable, addedBody);
                return added.StatusCode == HttpStatusCode.OK;
            },
            Deadline,
            "the rebuilt node is added over HTTP");
        Assert.Equal(raft, JsonDocument.Parse(addedBody!).RootElement.GetProperty("added").GetString());

        await Eventually.TrueAsync(
            async () => (await MembersAsync(c, leader)).Any(m => m.GetProperty("id").GetInt64() == victim.NodeId),
            Deadline,
            "the leader lists the re-added member with its id");
        await Eventually.TrueAsync(
            async () =>
            {
                try
                {
                    using var get = await c.Http.GetAsync($"{victim.Http}/kv/members/before?consistency=serializable");
                    return get.StatusCode == HttpStatusCode.OK;
                }
                catch (HttpRequestException)
                {
                    return false; // its HTTP port may open after its Raft port (which the add needed): not up yet
                }
            },
            Deadline,
            "the re-added member caught up");

        // Errors.
        using (var unknown = await c.Http.DeleteAsync($"{leader.Http}/cluster/members/99"))
        {
            Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
            Assert.Equal("not_found", (await unknown.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString());
        }

        using (var exists = await c.Http.PostAsync($"{leader.Http}/cluster/members", Json(new { raft_address = raft })))
        {
            Assert.Equal(HttpStatusCode.Conflict, exists.StatusCode);
            Assert.Equal("member_exists", (await exists.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString());
        }

        using (var bad = await c.Http.PostAsync($"{leader.Http}/cluster/members", Json(new { raft_address = "no-port" })))
        {
            Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
            Assert.Equal("invalid_argument", (await bad.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString());
        }
    }

    private static StringContent Json(object body) => new(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json");

    private static async Task<List<JsonElement>> MembersAsync(LocalCluster c, ServerProcess node)
    {
        var body = await c.Http.GetFromJsonAsync<JsonElement>(node.Http + "/cluster/members");
        return body.GetProperty("members").EnumerateArray().ToList();
    }
}
