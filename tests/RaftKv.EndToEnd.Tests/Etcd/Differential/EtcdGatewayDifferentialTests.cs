using System.Net;
using System.Text.Json.Nodes;
using Xunit.Abstractions;
using static RaftKv.EndToEnd.Tests.Etcd.Gateway.GatewayHttp;

namespace RaftKv.EndToEnd.Tests.Etcd.Differential;

/// <summary>
/// The same JSON gateway requests to a real etcd 3.4 (its client URL) and to RaftKv (its HTTP port), both empty
/// (a fixture of this class's own), compared body for body: the headers' cluster_id, member_id and raft_term are
/// removed (they differ by nature; revisions stay, both sides write the same), and a lease's remaining TTL. Bad input
/// is compared by HTTP status and gRPC code (the message is the JSON library's own text on each side).
/// </summary>
public sealed class EtcdGatewayDifferentialTests(DiffFixture fixture, ITestOutputHelper output) : IClassFixture<DiffFixture>
{
    [Fact]
    public async Task KvTxnLeaseAndErrorsMatchEtcd()
    {
        string K(string s) => B64("gwdiff/" + s);
        var calls = new (string Path, string Body)[]
        {
            ("/v3/kv/put", $$$"""{"key":"{{{K("a")}}}","value":"{{{B64("1")}}}"}"""),
            ("/v3/kv/put", $$$"""{"key":"{{{K("b")}}}","value":"{{{B64("2")}}}"}"""),
            ("/v3/kv/put", $$$"""{"key":"{{{K("a")}}}","value":"{{{B64("3")}}}","prev_kv":true}"""),
            ("/v3/kv/range", $$$"""{"key":"{{{K("")}}}","range_end":"{{{B64("gwdiff0")}}}"}"""),
            ("/v3beta/kv/range", $$$"""{"key":"{{{K("")}}}","range_end":"{{{B64("gwdiff0")}}}","limit":"1","sort_order":"DESCEND","sort_target":"MOD"}"""),
            ("/v3/kv/range", $$$"""{"key":"{{{K("")}}}","range_end":"{{{B64("gwdiff0")}}}","count_only":true}"""),
            ("/v3/kv/range", $$$"""{"key":"{{{K("a")}}}","keys_only":true,"revision":"2"}"""),
            ("/v3/kv/range", $$$"""{"key":"{{{K("a")}}}","unknown_field":true}"""),
            ("/v3/kv/txn", $$$"""{"compare":[{"key":"{{{K("a")}}}","target":"VALUE","result":"EQUAL","value":"{{{B64("3")}}}"}],"success":[{"request_put":{"key":"{{{K("c")}}}","value":"{{{B64("4")}}}","prev_kv":true}},{"request_range":{"key":"{{{K("a")}}}"}}]}"""),
            ("/v3/kv/txn", $$$"""{"compare":[{"key":"{{{K("a")}}}","target":"VERSION","result":"GREATER","version":"5"}],"failure":[{"request_range":{"key":"{{{K("b")}}}"}},{"request_delete_range":{"key":"{{{K("c")}}}","prev_kv":true}}]}"""),
            ("/v3/kv/deleterange", $$$"""{"key":"{{{K("b")}}}","prev_kv":true}"""),
            ("/v3/kv/deleterange", $$$"""{"key":"{{{K("zzz")}}}"}"""),
            ("/v3/lease/grant", """{"ID":"7001","TTL":"300"}"""),
            ("/v3/lease/grant", """{"ID":"7001","TTL":"300"}"""),
            ("/v3/kv/put", $$$"""{"key":"{{{K("l")}}}","value":"{{{B64("5")}}}","lease":"7001"}"""),
            ("/v3/lease/timetolive", """{"ID":"7001","keys":true}"""),
            ("/v3/kv/lease/leases", "{}"),
            ("/v3/lease/revoke", """{"ID":"7001"}"""),
            ("/v3/kv/lease/revoke", """{"ID":"7001"}"""),
            ("/v3/kv/range", $$$"""{"key":"{{{K("l")}}}"}"""),
            ("/v3/kv/compaction", """{"revision":"3"}"""),
            ("/v3/kv/range", $$$"""{"key":"{{{K("a")}}}","revision":"2"}"""),
            ("/v3/kv/range", $$$"""{"key":"{{{K("a")}}}","revision":"1000"}"""),
            ("/v3/kv/range", string.Empty),
            ("/v3/kv/range", "null"),
            ("/v3/kv/txn", $$$"""{"compare":[{"key":"{{{K("a")}}}","target":"BOGUS","result":"EQUAL"}],"success":[{"request_put":{"key":"{{{K("bogus")}}}","value":"{{{B64("x")}}}"}}]}"""),
            ("/v3/kv/txn", $$$"""{"success":[{"request_txn":{"compare":[{"key":"{{{K("a")}}}","target":"VALUE","result":"ABOUT"}]}}]}"""),
            ("/v3/kv/put", $$$"""{"key":"{{{K("big")}}}","value":"{{{B64("v")}}}","lease":"424242"}"""),
            ("/v3/kv/range", $$$"""{"key":"{{{K("a")}}}"} what follows the request is not read"""), // grpc-gateway decodes one value
            ("/v3/kv/put", $$$"""{"key":"{{{K("t")}}}","value":"{{{B64("1")}}}"}{"key":"{{{K("u")}}}","value":"{{{B64("2")}}}"}"""),
        };
        foreach (var (path, body) in calls)
        {
            var etcd = await RawAsync(fixture.EtcdHttp, path, body);
            var raftkv = await RawAsync(fixture.RaftKvHttp, path, body);
            output.WriteLine($"{path} {body}\n  etcd   {(int)etcd.Status} {etcd.Body}\n  raftkv {(int)raftkv.Status} {raftkv.Body}");
            Assert.Equal(etcd.Status, raftkv.Status);
            AssertSame(Normalise(etcd.Body), Normalise(raftkv.Body), path);
        }
    }

    /// <summary>etcd answers its gateway on its client URL; RaftKv on its gRPC port too (HTTP/1.1 next to gRPC):
    /// the same calls there, compared with etcd's client URL, and /health's etcd field.</summary>
    [Fact]
    public async Task GatewayOnTheClientPortMatchesEtcdsClientUrl()
    {
        string K(string s) => B64("gwport/" + s);
        var calls = new (string Path, string Body)[]
        {
            ("/v3/kv/put", $$$"""{"key":"{{{K("a")}}}","value":"{{{B64("1")}}}"}"""),
            ("/v3/kv/put", $$$"""{"key":"{{{K("a")}}}","value":"{{{B64("2")}}}","prev_kv":true}"""),
            ("/v3beta/kv/range", $$$"""{"key":"{{{K("")}}}","range_end":"{{{B64("gwport0")}}}"}"""),
            ("/v3/kv/deleterange", $$$"""{"key":"{{{K("a")}}}","prev_kv":true}"""),
            ("/v3/kv/range", """{"key":"""),
            ("/v3/kv/nope", "{}"),
        };
        foreach (var (path, body) in calls)
        {
            var etcd = await RawAsync(fixture.EtcdHttp, path, body);
            var raftkv = await RawAsync(fixture.RaftKvClientPort, path, body);
            output.WriteLine($"{path} {body}\n  etcd   {(int)etcd.Status} {etcd.Body}\n  raftkv {(int)raftkv.Status} {raftkv.Body}");
            Assert.Equal(etcd.Status, raftkv.Status);
            if (etcd.Status == HttpStatusCode.OK)
            {
                AssertSame(Normalise(etcd.Body), Normalise(raftkv.Body), path);
            }
        }

        using var http = new HttpClient();
        var etcdHealth = JsonNode.Parse(await http.GetStringAsync(fixture.EtcdHttp + "/health"))!;
        var raftkvHealth = JsonNode.Parse(await http.GetStringAsync(fixture.RaftKvClientPort + "/health"))!;
        Assert.Equal(etcdHealth["health"]!.GetValue<string>(), raftkvHealth["health"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("""{"key":""")]
    [InlineData("""{"key":123}""")]
    [InlineData("""{"key":"!!"}""")]
    [InlineData("""{"limit":"lots"}""")]
    [InlineData("""{"key":"YQ==","sort_order":"BOGUS"}""")]
    [InlineData("""{"key":"YQ==","sort_target":"size"}""")]
    public async Task BadInputMatchesEtcdsStatusAndCode(string body)
    {
        var etcd = await PostAsync(fixture.EtcdHttp, "/v3/kv/range", body);
        var raftkv = await PostAsync(fixture.RaftKvHttp, "/v3/kv/range", body);
        output.WriteLine($"etcd {etcd.Json}\nraftkv {raftkv.Json}");
        Assert.Equal(HttpStatusCode.BadRequest, etcd.Status);
        Assert.Equal(etcd.Status, raftkv.Status);
        Assert.Equal(etcd.Json.GetProperty("code").GetInt32(), raftkv.Json.GetProperty("code").GetInt32());
        Assert.Equal(etcd.Json.GetProperty("error").GetString(), etcd.Json.GetProperty("message").GetString());
        Assert.Equal(raftkv.Json.GetProperty("error").GetString(), raftkv.Json.GetProperty("message").GetString());
    }

    /// <summary>A browser page calling the gateway: etcd (default <c>--cors</c>) answers the preflight 200 and every
    /// answer carries its CORS headers; RaftKv (default <c>CORS</c>) the same, on the HTTP port and the client port.</summary>
    [Fact]
    public async Task BrowserCorsMatchesEtcd()
    {
        using var http = new HttpClient();
        async Task<(HttpStatusCode Status, string Headers)> Send(string baseUrl, HttpMethod method, string path)
        {
            using var request = new HttpRequestMessage(method, baseUrl + path);
            request.Headers.Add("Origin", "http://page.example");
            if (method == HttpMethod.Options)
            {
                request.Headers.Add("Access-Control-Request-Method", "POST");
                request.Headers.Add("Access-Control-Request-Headers", "content-type,authorization");
            }
            else
            {
                request.Content = new StringContent($$$"""{"key":"{{{B64("cors/k")}}}"}""", System.Text.Encoding.UTF8, "application/json");
            }

            using var response = await http.SendAsync(request);
            var cors = response.Headers.Where(h => h.Key.StartsWith("Access-Control-", StringComparison.OrdinalIgnoreCase))
                .Select(h => $"{h.Key.ToLowerInvariant()}: {string.Join(",", h.Value)}").Order(StringComparer.Ordinal);
            return (response.StatusCode, string.Join("\n", cors));
        }

        foreach (var (method, path) in new[] { (HttpMethod.Options, "/v3/kv/range"), (HttpMethod.Post, "/v3/kv/range"), (HttpMethod.Options, "/v3beta/kv/put"), (HttpMethod.Options, "/v3/watch") })
        {
            var etcd = await Send(fixture.EtcdHttp, method, path);
            output.WriteLine($"{method} {path}\n  etcd   {(int)etcd.Status} {etcd.Headers}");
            Assert.Equal(HttpStatusCode.OK, etcd.Status);
            Assert.NotEmpty(etcd.Headers);
            foreach (var raftkvUrl in new[] { fixture.RaftKvHttp, fixture.RaftKvClientPort })
            {
                var raftkv = await Send(raftkvUrl, method, path);
                output.WriteLine($"  raftkv {(int)raftkv.Status} {raftkv.Headers}");
                Assert.Equal(etcd, raftkv);
            }
        }
    }

    [Fact]
    public async Task WatchLinesMatchEtcd()
    {
        var key = B64("gwdiff-watch/k");
        var create = $$$"""{"create_request":{"key":"{{{key}}}","prev_kv":true}}""";
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using var etcdWatch = await OpenStreamAsync(fixture.EtcdHttp, "/v3/watch", create, cancel.Token);
        using var raftkvWatch = await OpenStreamAsync(fixture.RaftKvHttp, "/v3/watch", create, cancel.Token);
        using var etcdLines = new StreamReader(await etcdWatch.Content.ReadAsStreamAsync(cancel.Token));
        using var raftkvLines = new StreamReader(await raftkvWatch.Content.ReadAsStreamAsync(cancel.Token));
        AssertSame(Normalise(await etcdLines.ReadLineAsync(cancel.Token)), Normalise(await raftkvLines.ReadLineAsync(cancel.Token)), "created");
        foreach (var (path, body) in new[]
        {
            ("/v3/kv/put", $$$"""{"key":"{{{key}}}","value":"{{{B64("1")}}}"}"""),
            ("/v3/kv/put", $$$"""{"key":"{{{key}}}","value":"{{{B64("2")}}}"}"""),
            ("/v3/kv/deleterange", $$$"""{"key":"{{{key}}}"}"""),
        })
        {
            await OkAsync(fixture.EtcdHttp, path, body);
            await OkAsync(fixture.RaftKvHttp, path, body);
            var etcd = await NextEventsAsync(etcdLines, cancel.Token);
            var raftkv = await NextEventsAsync(raftkvLines, cancel.Token);
            output.WriteLine($"etcd   {etcd}\nraftkv {raftkv}");
            AssertSame(Normalise(etcd), Normalise(raftkv), path);
        }
    }

    /// <summary>A watch from a compacted revision (etcd answers created, then canceled with the compact revision and a
    /// header without a revision), and a stream body whose later requests cannot be decoded (etcd's gateway sends the
    /// requests before the first undecodable one and keeps the stream open).</summary>
    [Fact]
    public async Task CompactedWatchAndUndecodableLaterRequestsMatchEtcd()
    {
        var key = B64("gwdiff-compacted/k");
        var put = $$$"""{"key":"{{{key}}}","value":"{{{B64("1")}}}"}""";
        var revision = Revision(await OkAsync(fixture.EtcdHttp, "/v3/kv/put", put));
        Assert.Equal(revision, Revision(await OkAsync(fixture.RaftKvHttp, "/v3/kv/put", put)));
        await OkAsync(fixture.EtcdHttp, "/v3/kv/compaction", $$$"""{"revision":"{{{revision}}}"}""");
        await OkAsync(fixture.RaftKvHttp, "/v3/kv/compaction", $$$"""{"revision":"{{{revision}}}"}""");
        foreach (var (body, lineCount) in new[]
        {
            ($$$"""{"create_request":{"key":"{{{key}}}","start_revision":"{{{revision - 1}}}"}}""", 2),
            ($$$"""{"create_request":{"key":"{{{key}}}"}} {"create_request":{"key":"{{{key}}}"}} not json {"create_request":{"key":"{{{key}}}"}}""", 2),
        })
        {
            using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            using var etcdWatch = await OpenStreamAsync(fixture.EtcdHttp, "/v3/watch", body, cancel.Token);
            using var raftkvWatch = await OpenStreamAsync(fixture.RaftKvHttp, "/v3/watch", body, cancel.Token);
            Assert.Equal(etcdWatch.StatusCode, raftkvWatch.StatusCode);
            using var etcdLines = new StreamReader(await etcdWatch.Content.ReadAsStreamAsync(cancel.Token));
            using var raftkvLines = new StreamReader(await raftkvWatch.Content.ReadAsStreamAsync(cancel.Token));
            for (var i = 0; i < lineCount; i++)
            {
                var etcd = await NextCreatedOrCanceledAsync(etcdLines, cancel.Token);
                var raftkv = await NextCreatedOrCanceledAsync(raftkvLines, cancel.Token);
                output.WriteLine($"{body}\n  etcd   {etcd}\n  raftkv {raftkv}");
                AssertSame(Normalise(etcd), Normalise(raftkv), body);
            }
        }
    }

    /// <summary>The next line that creates or cancels a watcher (progress notifications are skipped: their timing
    /// differs). A line that is not a result (an error) is returned as it is.</summary>
    private static async Task<string> NextCreatedOrCanceledAsync(StreamReader lines, CancellationToken cancel)
    {
        while (true)
        {
            var line = await lines.ReadLineAsync(cancel) ?? throw new InvalidOperationException("the watch stream ended");
            if (!line.Contains("\"result\"", StringComparison.Ordinal) || line.Contains("\"created\"", StringComparison.Ordinal) || line.Contains("\"canceled\"", StringComparison.Ordinal))
            {
                return line;
            }
        }
    }

    /// <summary>The next line with events (progress notifications, if any, are skipped).</summary>
    private static async Task<string> NextEventsAsync(StreamReader lines, CancellationToken cancel)
    {
        while (true)
        {
            var line = await lines.ReadLineAsync(cancel) ?? throw new InvalidOperationException("the watch stream ended");
            if (line.Contains("\"events\"", StringComparison.Ordinal))
            {
                return line;
            }
        }
    }

    private static JsonNode? Normalise(string? json)
    {
        var node = string.IsNullOrEmpty(json) ? null : JsonNode.Parse(json);
        Strip(node);
        return node;
    }

    private static void Strip(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject o:
                if (o["header"] is JsonObject header)
                {
                    header.Remove("cluster_id");
                    header.Remove("member_id");
                    header.Remove("raft_term");
                }

                if (o.ContainsKey("grantedTTL"))
                {
                    o.Remove("TTL"); // time to live: the remaining seconds differ by the time between the calls
                }

                foreach (var (_, child) in o.ToList())
                {
                    Strip(child);
                }

                break;
            case JsonArray a:
                foreach (var child in a)
                {
                    Strip(child);
                }

                break;
            default:
                break;
        }
    }

    private static void AssertSame(JsonNode? etcd, JsonNode? raftkv, string what)
        => Assert.True(JsonNode.DeepEquals(etcd, raftkv), $"{what}: etcd {etcd?.ToJsonString()} != raftkv {raftkv?.ToJsonString()}");
}
