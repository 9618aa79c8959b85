using System.Net;
using System.Text.Json;
using static RaftKv.EndToEnd.Tests.Etcd.Gateway.GatewayHttp;

namespace RaftKv.EndToEnd.Tests.Etcd.Gateway;

/// <summary>etcd's JSON gateway (POST /v3/…) on a real 3-node RaftKv's HTTP ports, at the leader and at a follower
/// (whose writes the gRPC pipeline forwards): KV, txn, compaction, leases, membership, status, watch streaming,
/// grpc-gateway's error bodies and 400 on bad input.</summary>
[Collection(EtcdCollection.Name)]
public sealed class EtcdGatewayTests(EtcdClusterFixture fixture)
{
    private async Task<(string Leader, string Follower)> EndpointsAsync()
    {
        var leader = await fixture.Cluster.WaitForLeaderAsync();
        var follower = fixture.Cluster.Nodes.First(n => n.IsRunning && n != leader);
        return (leader.Http, follower.Http);
    }

    [Fact]
    public async Task KvCallsWorkAtTheLeaderAndAtAFollower()
    {
        var (leader, follower) = await EndpointsAsync();
        foreach (var (at, name) in new[] { (leader, "leader"), (follower, "follower") })
        {
            var key = B64($"gw/{name}/a");
            var put = await OkAsync(at, "/v3/kv/put", $$$"""{"key":"{{{key}}}","value":"{{{B64("one")}}}"}""");
            var rev = Revision(put);
            Assert.True(rev > 0);
            var put2 = await OkAsync(at, "/v3beta/kv/put", $$$"""{"key":"{{{key}}}","value":"{{{B64("two")}}}","prev_kv":true}""");
            Assert.Equal(rev + 1, Revision(put2));
            Assert.Equal("one", Text(put2.GetProperty("prev_kv").GetProperty("value")));

            var range = await OkAsync(at, "/v3/kv/range", $$$"""{"key":"{{{key}}}"}""");
            var kv = Assert.Single(range.GetProperty("kvs").EnumerateArray());
            Assert.Equal("two", Text(kv.GetProperty("value")));
            Assert.Equal(rev, Long(kv, "create_revision")); // proto field names, int64 as strings
            Assert.Equal(rev + 1, Long(kv, "mod_revision"));
            Assert.Equal(2, Long(kv, "version"));
            Assert.Equal(1, Long(range, "count"));
            Assert.False(range.TryGetProperty("more", out _)); // default values omitted, as etcd does

            var old = await OkAsync(at, "/v3/kv/range", $$$"""{"key":"{{{key}}}","revision":"{{{rev}}}"}""");
            Assert.Equal("one", Text(Assert.Single(old.GetProperty("kvs").EnumerateArray()).GetProperty("value")));

            var txn = await OkAsync(at, "/v3/kv/txn", $$$"""
                {"compare":[{"key":"{{{key}}}","target":"VERSION","result":"EQUAL","version":"2"}],
                 "success":[{"request_put":{"key":"{{{key}}}","value":"{{{B64("three")}}}"}}],
                 "failure":[{"request_range":{"key":"{{{key}}}"}}]}
                """);
            Assert.True(txn.GetProperty("succeeded").GetBoolean());
            var inner = Assert.Single(txn.GetProperty("responses").EnumerateArray()).GetProperty("response_put").GetProperty("header");
            Assert.Equal(rev + 2, Long(inner, "revision"));

            var del = await OkAsync(at, "/v3/kv/deleterange", $$$"""{"key":"{{{key}}}","prev_kv":true}""");
            Assert.Equal(1, Long(del, "deleted"));
            Assert.Equal("three", Text(Assert.Single(del.GetProperty("prev_kvs").EnumerateArray()).GetProperty("value")));
            var gone = await OkAsync(at, "/v3/kv/range", $$$"""{"key":"{{{key}}}"}""");
            Assert.False(gone.TryGetProperty("kvs", out _));

            var compact = await OkAsync(at, "/v3/kv/compaction", $$$"""{"revision":"{{{rev}}}"}""");
            Assert.True(Revision(compact) >= rev);
            var (status, error) = await PostAsync(at, "/v3/kv/range", $$$"""{"key":"{{{key}}}","revision":"{{{rev - 1}}}"}""");
            Assert.Equal(HttpStatusCode.BadRequest, status); // OUT_OF_RANGE → 400, grpc-gateway's error body
            Assert.Equal(11, error.GetProperty("code").GetInt32());
            Assert.Equal("etcdserver: mvcc: required revision has been compacted", error.GetProperty("error").GetString());
            Assert.Equal(error.GetProperty("error").GetString(), error.GetProperty("message").GetString());
        }
    }

    [Fact]
    public async Task LeasesMembersAndStatus()
    {
        var (leader, follower) = await EndpointsAsync();
        var grant = await OkAsync(follower, "/v3/lease/grant", """{"TTL":"120"}""");
        var id = grant.GetProperty("ID").GetString()!;
        Assert.Equal(120, Long(grant, "TTL"));
        var key = B64("gw/leased");
        await OkAsync(leader, "/v3/kv/put", $$$"""{"key":"{{{key}}}","value":"{{{B64("v")}}}","lease":"{{{id}}}"}""");
        var ttl = await OkAsync(follower, "/v3/kv/lease/timetolive", $$$"""{"ID":"{{{id}}}","keys":true}""");
        Assert.Equal(id, ttl.GetProperty("ID").GetString());
        Assert.InRange(Long(ttl, "TTL"), 1, 120);
        Assert.Equal("gw/leased", Text(Assert.Single(ttl.GetProperty("keys").EnumerateArray())));
        var leases = await OkAsync(leader, "/v3/lease/leases", "{}");
        Assert.Contains(leases.GetProperty("leases").EnumerateArray(), l => l.GetProperty("ID").GetString() == id);

        using (var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(60)))
        {
            using var keepalive = await OpenStreamAsync(follower, "/v3/lease/keepalive", $$$"""{"ID":"{{{id}}}"}""", cancel.Token);
            Assert.Equal(HttpStatusCode.OK, keepalive.StatusCode);
            using var reader = new StreamReader(await keepalive.Content.ReadAsStreamAsync(cancel.Token));
            var line = JsonDocument.Parse((await reader.ReadLineAsync(cancel.Token))!).RootElement.GetProperty("result");
            Assert.Equal(id, line.GetProperty("ID").GetString());
            Assert.Equal(120, Long(line, "TTL"));
        }

        await OkAsync(follower, "/v3/lease/revoke", $$$"""{"ID":"{{{id}}}"}""");
        Assert.False((await OkAsync(leader, "/v3/kv/range", $$$"""{"key":"{{{key}}}"}""")).TryGetProperty("kvs", out _));
        var (status, error) = await PostAsync(leader, "/v3/kv/lease/revoke", $$$"""{"ID":"{{{id}}}"}""");
        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Equal("etcdserver: requested lease not found", error.GetProperty("message").GetString());
        Assert.Equal(5, error.GetProperty("code").GetInt32());

        var members = await OkAsync(follower, "/v3/cluster/member/list", string.Empty); // an empty body is an empty request
        Assert.Equal(3, members.GetProperty("members").GetArrayLength());
        var status2 = await OkAsync(follower, "/v3/maintenance/status", "{}");
        Assert.NotEqual(0, Long(status2, "leader"));
        Assert.Equal(Long(status2, "leader"), Long((await OkAsync(leader, "/v3/maintenance/status", "{}")).GetProperty("header"), "member_id"));
    }

    /// <summary>A peer URL etcd refuses is etcd's 400 (RaftKv read "bogus" as http://bogus:80 and answered a 500 once
    /// the name did not resolve); a well-formed one whose host does not resolve is a node not started yet: added as
    /// unstarted (etcd's answer), then removed by its id.</summary>
    [Fact]
    public async Task MemberAddWithABadOrUnresolvablePeerUrlIsNoServerError()
    {
        var (_, follower) = await EndpointsAsync();
        foreach (var url in new[] { "bogus", "http://127.0.0.1", "ftp://127.0.0.1:7000" })
        {
            var (status, error) = await PostAsync(follower, "/v3/cluster/member/add", $$$"""{"peerURLs":["{{{url}}}"]}""");
            Assert.True(status == HttpStatusCode.BadRequest, $"{url}: {(int)status} {error}");
            Assert.Equal("etcdserver: given member URLs are invalid", error.GetProperty("error").GetString());
        }

        var added = await OkAsync(follower, "/v3/cluster/member/add", """{"peerURLs":["http://no-such-host.invalid:7000"]}""");
        var id = added.GetProperty("member").GetProperty("ID").GetString()!;
        await Eventually.TrueAsync(async () => (await OkAsync(follower, "/v3/cluster/member/list", "{}")).GetProperty("members").GetArrayLength() == 4, TimeSpan.FromSeconds(30), "the follower lists the unstarted member");
        await OkAsync(follower, "/v3/cluster/member/remove", $$$"""{"ID":"{{{id}}}"}""");
        await Eventually.TrueAsync(async () => (await OkAsync(follower, "/v3/cluster/member/list", "{}")).GetProperty("members").GetArrayLength() == 3, TimeSpan.FromSeconds(30), "the removed member is no longer listed");
    }

    [Fact]
    public async Task LockAndElectionRoutesServeEtcdsConcurrencyServices()
    {
        var (leader, follower) = await EndpointsAsync();
        var lease = (await OkAsync(leader, "/v3/lease/grant", """{"TTL":"60"}""")).GetProperty("ID").GetString()!;
        var held = await OkAsync(follower, "/v3/lock/lock", $$$"""{"name":"{{{B64("gw-lock")}}}","lease":"{{{lease}}}"}""");
        var lockKey = held.GetProperty("key").GetString()!;
        Assert.StartsWith("gw-lock/", Text(held.GetProperty("key")), StringComparison.Ordinal);
        await OkAsync(leader, "/v3/lock/unlock", $$$"""{"key":"{{{lockKey}}}"}""");

        var campaign = await OkAsync(follower, "/v3/election/campaign", $$$"""{"name":"{{{B64("gw-elect")}}}","lease":"{{{lease}}}","value":"{{{B64("one")}}}"}""");
        var leaderKey = campaign.GetProperty("leader");
        Assert.Equal("one", Text((await OkAsync(leader, "/v3/election/leader", $$$"""{"name":"{{{B64("gw-elect")}}}"}""")).GetProperty("kv").GetProperty("value")));
        await OkAsync(leader, "/v3/election/resign", "{\"leader\":" + leaderKey.GetRawText() + "}");
        var (status, error) = await PostAsync(follower, "/v3/election/leader", $$$"""{"name":"{{{B64("gw-elect")}}}"}""");
        Assert.Equal(HttpStatusCode.InternalServerError, status); // etcd 3.4: codes.Unknown, as its Go error
        Assert.Equal("election: no leader", error.GetProperty("message").GetString());
    }

    [Fact]
    public async Task WatchStreamsEventsUntilTheClientDisconnects()
    {
        var (leader, follower) = await EndpointsAsync();
        var key = B64("gw/watched");
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using var watch = await OpenStreamAsync(follower, "/v3/watch", $$$"""{"create_request":{"key":"{{{key}}}","prev_kv":true}}""", cancel.Token);
        Assert.Equal(HttpStatusCode.OK, watch.StatusCode);
        using var reader = new StreamReader(await watch.Content.ReadAsStreamAsync(cancel.Token));
        var created = JsonDocument.Parse((await reader.ReadLineAsync(cancel.Token))!).RootElement.GetProperty("result");
        Assert.True(created.GetProperty("created").GetBoolean());

        var put = await OkAsync(leader, "/v3/kv/put", $$$"""{"key":"{{{key}}}","value":"{{{B64("x")}}}"}""");
        await OkAsync(leader, "/v3/kv/deleterange", $$$"""{"key":"{{{key}}}"}""");
        var events = new List<JsonElement>();
        while (events.Count < 2)
        {
            var result = JsonDocument.Parse((await reader.ReadLineAsync(cancel.Token))!).RootElement.GetProperty("result");
            if (result.TryGetProperty("events", out var batch))
            {
                events.AddRange(batch.EnumerateArray().Select(e => e.Clone()));
            }
        }

        Assert.False(events[0].TryGetProperty("type", out _)); // PUT is the enum's default: omitted
        Assert.Equal(Revision(put), Long(events[0].GetProperty("kv"), "mod_revision"));
        Assert.Equal("x", Text(events[0].GetProperty("kv").GetProperty("value")));
        Assert.Equal("DELETE", events[1].GetProperty("type").GetString()); // enums by name
        Assert.Equal("x", Text(events[1].GetProperty("prev_kv").GetProperty("value")));
    }

    [Theory]
    [InlineData("""{"key":""")] // malformed JSON
    [InlineData("""{"key":123}""")] // wrong type
    [InlineData("""{"key":"!!"}""")] // bad base64
    [InlineData("""{"limit":"lots"}""")]
    [InlineData("""[1,2]""")]
    public async Task BadInputIsA400WithGrpcGatewaysErrorBody(string body)
    {
        var (leader, follower) = await EndpointsAsync();
        foreach (var at in new[] { leader, follower })
        {
            var (status, error) = await PostAsync(at, "/v3/kv/range", body);
            Assert.Equal(HttpStatusCode.BadRequest, status);
            Assert.Equal(3, error.GetProperty("code").GetInt32()); // INVALID_ARGUMENT
            Assert.False(string.IsNullOrEmpty(error.GetProperty("error").GetString()));
        }
    }

    [Fact]
    public async Task BodiesEscapeOnlyWhatJsonRequiresAsGosEncoder()
    {
        // System.Text.Json's default encoder writes a quote as \u0022 and base64's '+' as \u002B; Go's (etcd's) does not.
        var (leader, _) = await EndpointsAsync();
        var (status, error) = await RawAsync(leader, "/v3/kv/range", $$$"""{"key":"{{{B64("gw/esc")}}}","sort_order":"SIDEWAYS"}""");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("\\\"SIDEWAYS\\\"", error, StringComparison.Ordinal);
        Assert.DoesNotContain("\\u", error, StringComparison.Ordinal);

        var plus = Convert.ToBase64String([0xFB, 0xEF]); // "++8="
        await OkAsync(leader, "/v3/kv/put", $$$"""{"key":"{{{B64("gw/esc")}}}","value":"{{{plus}}}"}""");
        var (ok, range) = await RawAsync(leader, "/v3/kv/range", $$$"""{"key":"{{{B64("gw/esc")}}}"}""");
        Assert.Equal(HttpStatusCode.OK, ok);
        Assert.Contains($"\"value\":\"{plus}\"", range, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnknownFieldsAreIgnoredAsEtcdDoes()
    {
        var (leader, _) = await EndpointsAsync();
        var range = await OkAsync(leader, "/v3/kv/range", $$$"""{"key":"{{{B64("gw/none")}}}","no_such_field":1}""");
        Assert.True(Revision(range) > 0);
    }
}
