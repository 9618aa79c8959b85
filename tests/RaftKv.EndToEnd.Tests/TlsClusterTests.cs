using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Grpc.Core;
using RaftKv.Client;
using RaftKv.EndToEnd.Tests.Etcd;

namespace RaftKv.EndToEnd.Tests;

/// <summary>
/// TLS end to end with real processes and certificates made in the test (issue 16, TLS): HTTPS and
/// gRPC over TLS on the client ports with forwarding over TLS, client-certificate authentication,
/// mutual TLS between Raft peers (a node of another CA cannot join), rotation without restart, and
/// start-up errors naming a bad file.
/// </summary>
public sealed class TlsClusterTests
{
    private static StringContent Json(string s) => new(s, Encoding.UTF8, "application/json");

    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task TlsClusterWithClientCertificatesServesForwardsAndRefusesOthers()
    {
        using var kit = new TlsTestKit();
        var alice = kit.Issue(kit.Ca, "alice", clientOnly: true);
        var mallory = kit.Issue(kit.Other, "mallory", clientOnly: true);
        using var c = kit.Cluster(3, clientCertAuth: true, clientCertificate: alice.Cert.Certificate);
        c.StartAll();
        var leader = await c.WaitForLeaderAsync();
        await c.WaitReadyAsync();
        var followers = c.Nodes.Where(n => n != leader).ToList();
        Assert.StartsWith("https://", leader.Http, StringComparison.Ordinal);

        // HTTPS write through a follower: forwarded to the leader over TLS with the node's certificate.
        using (var r = await c.Http.PutAsync(followers[0].Http + "/kv/tls-http", Json("{\"value\":\"over-https\"}")))
        {
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        }

        var got = await c.Http.GetFromJsonAsync<JsonElement>(followers[1].Http + "/kv/tls-http");
        Assert.Equal("over-https", got.GetProperty("value").GetString());

        // The .NET client over TLS with a client certificate, writing through a follower (gRPC forwarding over TLS).
        using (var client = new RaftKvClient([followers[1].Grpc], new RaftKvClientOptions { Tls = new ClientTls(kit.CaFile, alice.CertFile, alice.KeyFile) }))
        {
            var put = await client.PutAsync("tls-grpc"u8.ToArray(), "over-grpc-tls"u8.ToArray());
            Assert.True(put.Version > 0);
            var kv = await client.GetAsync("tls-grpc"u8.ToArray());
            Assert.Equal("over-grpc-tls", kv!.Value.ToStringUtf8());
            var http = await c.Http.GetFromJsonAsync<JsonElement>(leader.Http + "/kv/tls-grpc");
            Assert.Equal("over-grpc-tls", http.GetProperty("value").GetString());
        }

        // kvctl with --cacert/--cert/--key.
        var (code, output, error) = await KvctlRunner.RunAsync(followers[0].Grpc, "--cacert", kit.CaFile, "--cert", alice.CertFile, "--key", alice.KeyFile, "get", "tls-http");
        Assert.True(code == 0, $"kvctl: {code} {output} {error}");
        Assert.Contains("over-https", output, StringComparison.Ordinal);

        // etcdctl's --cluster commands dial the client URLs member list gives: https on a TLS cluster (they were
        // http://, so every member looked unhealthy to `endpoint health --cluster`).
        var tlsFlags = new[] { $"--cacert={kit.CaFile}", $"--cert={alice.CertFile}", $"--key={alice.KeyFile}" };
        var members = (await Etcdctl.RunAsync("https://" + leader.Grpc, [.. tlsFlags, "member", "list", "-w", "json"])).Ok().Json.GetProperty("members");
        Assert.All(members.EnumerateArray(), m =>
        {
            Assert.StartsWith("https://", m.GetProperty("clientURLs")[0].GetString(), StringComparison.Ordinal);
            Assert.StartsWith("https://", m.GetProperty("peerURLs")[0].GetString(), StringComparison.Ordinal);
        });
        var health = (await Etcdctl.RunAsync("https://" + leader.Grpc, [.. tlsFlags, "endpoint", "health", "--cluster"])).Ok();
        Assert.Equal(3, health.Err.Split('\n').Concat(health.Out.Split('\n')).Count(l => l.Contains("is healthy", StringComparison.Ordinal)));

        // Refused: plaintext HTTP and gRPC on the TLS ports, no client certificate, a certificate of another CA.
        using (var plain = new HttpClient { Timeout = TimeSpan.FromSeconds(20) })
        {
            await Assert.ThrowsAsync<HttpRequestException>(() => plain.GetAsync($"http://127.0.0.1:{leader.HttpPort}/kv/tls-http"));
        }

        var quick = new RaftKvClientOptions { RetryBudget = TimeSpan.FromSeconds(1), AttemptTimeout = TimeSpan.FromSeconds(5) };
        using (var plainGrpc = new RaftKvClient([leader.Grpc], quick))
        {
            await Assert.ThrowsAsync<RpcException>(() => plainGrpc.GetAsync("tls-grpc"u8.ToArray()));
        }

        using (var noCert = TlsTestKit.Client([kit.Ca.Certificate]))
        {
            await Assert.ThrowsAsync<HttpRequestException>(() => noCert.GetAsync(leader.Http + "/kv/tls-http"));
        }

        using (var wrongCa = TlsTestKit.Client([kit.Ca.Certificate], mallory.Cert.Certificate))
        {
            await Assert.ThrowsAsync<HttpRequestException>(() => wrongCa.PutAsync(followers[0].Http + "/kv/tls-http", Json("{\"value\":\"mallory\"}")));
        }

        using (var noCertGrpc = new RaftKvClient([leader.Grpc], quick with { Tls = new ClientTls(kit.CaFile) }))
        {
            await Assert.ThrowsAsync<RpcException>(() => noCertGrpc.GetAsync("tls-grpc"u8.ToArray()));
        }

        got = await c.Http.GetFromJsonAsync<JsonElement>(leader.Http + "/kv/tls-http");
        Assert.Equal("over-https", got.GetProperty("value").GetString());
    }

    /// <summary>Node 3 is in everyone's membership but its certificate (and CA) are another CA's: the
    /// leader refuses its server certificate, nodes 1-2 refuse its client certificate. Nodes 1-2 keep
    /// their leader and term and commit; node 3 never receives an entry.</summary>
    [Fact]
    public async Task NodeWithACertificateOfAnotherCaCannotJoinOrDisruptTheCluster()
    {
        using var kit = new TlsTestKit();
        var good = Enumerable.Range(1, 2).Select(i => kit.Issue(kit.Ca, $"node{i}")).ToList();
        var rogue = kit.Issue(kit.Other, "rogue");
        using var c = new LocalCluster(
            3,
            null,
            id => id == 3 ? kit.NodeEnv(rogue.CertFile, rogue.KeyFile, kit.OtherCaFile, false) : kit.NodeEnv(good[(int)id - 1].CertFile, good[(int)id - 1].KeyFile, kit.CaFile, false),
            TlsTestKit.Client([kit.Ca.Certificate, kit.Other.Certificate]));
        c.Nodes[0].Start();
        c.Nodes[1].Start();
        var leader = await c.WaitForLeaderAsync();
        await c.WaitReadyAsync();
        var before = await StatsAsync(c, leader);

        var node3 = c.Nodes[2];
        node3.Start();
        await Eventually.TrueAsync(async () => await RespondsAsync(c, node3), Deadline, "node 3 serves HTTPS");
        await Eventually.TrueAsync(() => leader.Log().Contains("CN=rogue", StringComparison.Ordinal), Deadline, "the leader has refused node 3's certificate (log: 'TLS: rejected the Raft peer (server) certificate CN=rogue')");

        for (var i = 0; i < 10; i++)
        {
            using var r = await c.Http.PutAsync(leader.Http + $"/kv/rogue-test-{i}", Json($"{{\"value\":\"v{i}\"}}"));
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        }

        var after = await StatsAsync(c, leader);
        Assert.Equal(before.GetProperty("leader_id").GetInt64(), after.GetProperty("leader_id").GetInt64());
        Assert.Equal(before.GetProperty("term").GetInt64(), after.GetProperty("term").GetInt64());
        Assert.True(after.GetProperty("commit_index").GetInt64() >= before.GetProperty("commit_index").GetInt64() + 10);

        var third = await StatsAsync(c, node3);
        Assert.Equal(0, third.GetProperty("last_log_index").GetInt64());
        Assert.Equal(0, third.GetProperty("applied_index").GetInt64());
        Assert.NotEqual("leader", third.GetProperty("role").GetString());
        Assert.True(node3.IsRunning);
        Assert.Contains("TLS: rejected the Raft peer", leader.Log(), StringComparison.Ordinal);
    }

    /// <summary>Rotation: new files are served to new connections on both client ports, without a restart.</summary>
    [Fact]
    public async Task ReplacedServerCertificateIsServedToNewConnections()
    {
        using var kit = new TlsTestKit();
        var first = kit.Issue(kit.Ca, "node1");
        using var c = new LocalCluster(1, null, _ => kit.NodeEnv(first.CertFile, first.KeyFile, kit.CaFile, false), TlsTestKit.Client([kit.Ca.Certificate]));
        c.StartAll();
        var node = await c.WaitForLeaderAsync();
        Assert.Equal(first.Cert.Thumbprint, await ServedThumbprintAsync(kit, node.HttpPort));
        Assert.Equal(first.Cert.Thumbprint, await ServedThumbprintAsync(kit, node.GrpcPort));

        using var second = kit.Ca.Issue("node1-rotated");
        second.Write(Path.Combine(kit.Dir, "node1"));
        await Eventually.TrueAsync(async () => await ServedThumbprintAsync(kit, node.HttpPort) == second.Thumbprint, Deadline, "the HTTP port serves the new certificate");
        await Eventually.TrueAsync(async () => await ServedThumbprintAsync(kit, node.GrpcPort) == second.Thumbprint, Deadline, "the gRPC port serves the new certificate");
        using var r = await c.Http.PutAsync(node.Http + "/kv/after-rotation", Json("{\"value\":\"ok\"}"));
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.True(node.IsRunning);
    }

    [Fact]
    public async Task CertificateFileThatDoesNotParseIsAStartupErrorNamingTheFile()
    {
        using var kit = new TlsTestKit();
        var node = kit.Issue(kit.Ca, "node1");
        var garbage = Path.Combine(kit.Dir, "garbage.pem");
        await File.WriteAllTextAsync(garbage, "-----BEGIN CERTIFICATE-----\nthis is not a certificate\n-----END CERTIFICATE-----\n");
        using var c = new LocalCluster(1, null, _ => kit.NodeEnv(garbage, node.KeyFile, kit.CaFile, false));
        var p = c.Nodes[0];
        p.Start();
        await Eventually.TrueAsync(() => !p.IsRunning, Deadline, "the server exits");
        Assert.NotEqual(0, p.ExitCode);
        await Eventually.TrueAsync(() => p.Log().Contains(garbage, StringComparison.Ordinal), TimeSpan.FromSeconds(10), "the error names the file");
        var log = p.Log();
        Assert.Contains($"TLS_CERT_FILE '{garbage}'", log, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", log, StringComparison.Ordinal); // a message, not a stack trace
    }

    private static async Task<JsonElement> StatsAsync(LocalCluster c, ServerProcess n) => await c.Http.GetFromJsonAsync<JsonElement>(n.Http + "/stats");

    private static async Task<bool> RespondsAsync(LocalCluster c, ServerProcess n)
    {
        try
        {
            using var r = await c.Http.GetAsync(n.Http + "/health/live"); // /health: 503 until it has a leader
            return r.IsSuccessStatusCode;
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }

    /// <summary>The thumbprint of the certificate a new TLS connection to the port is served.</summary>
    private static async Task<string?> ServedThumbprintAsync(TlsTestKit kit, int port)
    {
        string? seen = null;
        using var client = new HttpClient(TlsTestKit.Handler([kit.Ca.Certificate], null, c => seen = c.Thumbprint)) { Timeout = TimeSpan.FromSeconds(20) };
        using var request = new HttpRequestMessage(HttpMethod.Get, $"https://127.0.0.1:{port}/health") { Version = HttpVersion.Version20, VersionPolicy = HttpVersionPolicy.RequestVersionOrLower };
        try
        {
            using var r = await client.SendAsync(request);
        }
        catch (HttpRequestException)
        {
        }

        return seen;
    }
}
