using System.Net;
using System.Text;

namespace RaftKv.EndToEnd.Tests.Etcd.Gateway;

/// <summary>The JSON gateway on TLS client ports with CLIENT_CERT_AUTH: ALPN <c>http/1.1</c> and <c>h2</c> both reach it on
/// GRPC_PORT and ETCD_PORT with a client certificate, neither without one, while etcdctl uses the same port over gRPC
/// (a real process, certificates made in the test).</summary>
public sealed class ClientPortTlsGatewayTests
{
    [Fact]
    public async Task GatewayOverTlsNeedsTheClientCertificateOnEitherProtocol()
    {
        using var kit = new TlsTestKit();
        var node = kit.Issue(kit.Ca, "node1");
        var alice = kit.Issue(kit.Ca, "alice", clientOnly: true);
        var etcdPort = ServerProcess.FreePort();
        var env = kit.NodeEnv(node.CertFile, node.KeyFile, kit.CaFile, clientCertAuth: true);
        env["ETCD_PORT"] = etcdPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        using var c = new LocalCluster(1, null, _ => env, TlsTestKit.Client([kit.Ca.Certificate], alice.Cert.Certificate));
        c.StartAll();
        await c.WaitForLeaderAsync();
        await c.WaitReadyAsync();

        using var withCert = TlsTestKit.Client([kit.Ca.Certificate], alice.Cert.Certificate);
        using var withoutCert = TlsTestKit.Client([kit.Ca.Certificate]);
        foreach (var port in new[] { c.Nodes[0].GrpcPort, etcdPort })
        {
            var url = $"https://localhost:{port}";
            foreach (var version in new[] { HttpVersion.Version11, HttpVersion.Version20 })
            {
                var key = Convert.ToBase64String(Encoding.UTF8.GetBytes($"tls/{port}/{version}"));
                using var put = await SendAsync(withCert, version, url + "/v3/kv/put", $$"""{"key":"{{key}}","value":"{{Convert.ToBase64String("v"u8.ToArray())}}"}""");
                Assert.True(put.StatusCode == HttpStatusCode.OK, $"{url} HTTP/{version}: {(int)put.StatusCode} {await put.Content.ReadAsStringAsync()}");
                Assert.Equal(version, put.Version); // ALPN chose what the client asked for

                await Assert.ThrowsAsync<HttpRequestException>(() => SendAsync(withoutCert, version, url + "/v3/kv/range", $$"""{"key":"{{key}}"}"""));
            }

            var get = (await Etcdctl.RunAsync($"https://localhost:{port}", $"--cacert={kit.CaFile}", $"--cert={alice.CertFile}", $"--key={alice.KeyFile}", "get", $"tls/{port}/", "--prefix", "-w", "json")).Ok();
            Assert.Equal(2, get.Json.GetProperty("kvs").GetArrayLength());
        }
    }

    private static async Task<HttpResponseMessage> SendAsync(HttpClient client, Version version, string url, string body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, url)
        {
            Content = new StringContent(body, Encoding.UTF8, "application/json"),
            Version = version,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        return await client.SendAsync(request);
    }
}
