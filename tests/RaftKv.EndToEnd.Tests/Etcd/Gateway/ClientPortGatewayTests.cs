using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using static RaftKv.EndToEnd.Tests.Etcd.Gateway.GatewayHttp;

namespace RaftKv.EndToEnd.Tests.Etcd.Gateway;

/// <summary>etcd's JSON gateway over HTTP/1.1 on the client ports (GRPC_PORT of the leader and of a follower, and
/// ETCD_PORT), as <c>curl http://host:2379/v3/kv/put</c> reaches it, while etcdctl uses the same ports over gRPC;
/// etcd's <c>/health</c>, <c>/version</c>, <c>/metrics</c> there; and what a bad first byte sequence gets (real processes,
/// raw sockets).</summary>
[Collection(EtcdCollection.Name)]
public sealed class ClientPortGatewayTests(EtcdClusterFixture fixture)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    private async Task<IReadOnlyList<(string Name, string HostPort)>> ClientPortsAsync()
    {
        var leader = await fixture.Cluster.WaitForLeaderAsync();
        var follower = fixture.Cluster.Nodes.First(n => n.IsRunning && n != leader);
        return [("leader grpc", leader.Grpc), ("follower grpc", follower.Grpc), ("etcd port", $"127.0.0.1:{fixture.EtcdPort}")];
    }

    [Fact]
    public async Task GatewayAnswersHttp1OnTheClientPortsWhileEtcdctlUsesThemOverGrpc()
    {
        var ports = await ClientPortsAsync();
        var etcdPort = ports[2].HostPort;
        var start = Revision(await OkAsync("http://" + etcdPort, "/v3/kv/range", """{"key":"AA=="}""")) + 1;
        // An HTTP/2 stream held open on the same port meanwhile; from `start`, so it sees every put however late it connects.
        using var watch = Etcdctl.Spawn(etcdPort, "watch", "cp/", "--prefix", $"--rev={start}");
        foreach (var (name, at) in ports)
        {
            var tag = name.Replace(' ', '-');
            var put = await OkAsync("http://" + at, "/v3/kv/put", $$$"""{"key":"{{{B64($"cp/{tag}/http")}}}","value":"{{{B64("via-http1")}}}"}""");
            Assert.True(Revision(put) > 0);
            var get = (await Etcdctl.RunAsync(at, "get", $"cp/{tag}/http", "--print-value-only")).Ok();
            Assert.Equal("via-http1", get.Out.Trim());

            (await Etcdctl.RunAsync(at, "put", $"cp/{tag}/grpc", "via-grpc")).Ok();
            var range = await OkAsync("http://" + at, "/v3beta/kv/range", $$$"""{"key":"{{{B64($"cp/{tag}/grpc")}}}"}""");
            Assert.Equal("via-grpc", Text(Assert.Single(range.GetProperty("kvs").EnumerateArray()).GetProperty("value")));

            var (status, error) = await PostAsync("http://" + at, "/v3/kv/range", """{"key":""");
            Assert.Equal(HttpStatusCode.BadRequest, status); // grpc-gateway's error body, as on HTTP_PORT
            Assert.Equal(3, error.GetProperty("code").GetInt32());
        }

        var lines = await watch.ReadUntilAsync(l => l.Count(x => x == "via-grpc") == 3 && l.Count(x => x == "via-http1") == 3, Deadline);
        Assert.Contains("cp/etcd-port/http", lines);
    }

    [Fact]
    public async Task EtcdsHealthVersionAndMetricsAnswerOnTheClientPorts()
    {
        using var http = new HttpClient { Timeout = Deadline };
        foreach (var (_, at) in await ClientPortsAsync())
        {
            using var health = await http.GetAsync($"http://{at}/health");
            Assert.Equal(HttpStatusCode.OK, health.StatusCode);
            Assert.Equal(new Version(1, 1), health.Version);
            Assert.Equal("true", JsonDocument.Parse(await health.Content.ReadAsStringAsync()).RootElement.GetProperty("health").GetString());

            var version = JsonDocument.Parse(await http.GetStringAsync($"http://{at}/version")).RootElement;
            // Dotted integers only, as clients parse it (Patroni: tuple(int(x) for x in v.split('.'))); RaftKv's own apart.
            Assert.Matches(@"^3\.5\.[0-9]+$", version.GetProperty("etcdserver").GetString());
            Assert.False(string.IsNullOrEmpty(version.GetProperty("raftkv").GetString()));
            Assert.Equal("3.5.0", version.GetProperty("etcdcluster").GetString());

            Assert.Contains("raftkv_", await http.GetStringAsync($"http://{at}/metrics"), StringComparison.Ordinal);

            using var missing = await http.GetAsync($"http://{at}/v3/nope");
            Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
            Assert.Equal("not_found", JsonDocument.Parse(await missing.Content.ReadAsStringAsync()).RootElement.GetProperty("code").GetString());
        }
    }

    [Fact]
    public async Task BadFirstBytesGetAClearAnswerAndTheNextClientIsServed()
    {
        var at = (await ClientPortsAsync())[2].HostPort;

        var garbage = await ExchangeAsync(at, "HELLO there\r\n\r\n"u8.ToArray());
        Assert.StartsWith("HTTP/1.1 400 ", Encoding.Latin1.GetString(garbage), StringComparison.Ordinal);

        byte[] clientHello = [0x16, 0x03, 0x01, 0x00, 0x2a, 0x01, 0x00, 0x00, 0x26, 0x03, 0x03, .. new byte[32]];
        var tls = await ExchangeAsync(at, clientHello); // TLS on the cleartext port: HTTP/1.1's 400, then closed
        Assert.StartsWith("HTTP/1.1 400 ", Encoding.Latin1.GetString(tls), StringComparison.Ordinal);

        Assert.Empty(await ExchangeAsync(at, "PRI"u8.ToArray(), halfClose: true)); // 3 bytes of the preface, then EOF: closed, no answer

        // The preface one byte at a time, then an empty SETTINGS frame: the server answers with its own SETTINGS.
        using (var client = new TcpClient())
        {
            await client.ConnectAsync(IPEndPoint.Parse(at));
            var stream = client.GetStream();
            foreach (var b in "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8.ToArray())
            {
                await stream.WriteAsync(new[] { b });
                await stream.FlushAsync();
            }

            await stream.WriteAsync(new byte[] { 0, 0, 0, 4, 0, 0, 0, 0, 0 });
            var frame = new byte[9];
            using var cancel = new CancellationTokenSource(Deadline);
            await stream.ReadExactlyAsync(frame, cancel.Token);
            Assert.Equal(4, frame[3]); // frame type SETTINGS
        }

        (await Etcdctl.RunAsync(at, "endpoint", "health")).Ok();
        Assert.Equal("OK", (await Etcdctl.RunAsync(at, "put", "cp/after-bad-input", "x")).Ok().Out.Trim());
    }

    /// <summary>Sends <paramref name="bytes"/> (then half-closes if asked) and reads the whole answer until the server closes.</summary>
    private static async Task<byte[]> ExchangeAsync(string at, byte[] bytes, bool halfClose = false)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(IPEndPoint.Parse(at));
        var stream = client.GetStream();
        await stream.WriteAsync(bytes);
        if (halfClose)
        {
            client.Client.Shutdown(SocketShutdown.Send);
        }

        using var answer = new MemoryStream();
        using var cancel = new CancellationTokenSource(Deadline);
        await stream.CopyToAsync(answer, cancel.Token);
        return answer.ToArray();
    }
}
