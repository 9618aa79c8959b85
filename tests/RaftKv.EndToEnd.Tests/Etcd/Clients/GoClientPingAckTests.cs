namespace RaftKv.EndToEnd.Tests.Etcd.Clients;

/// <summary>
/// grpc-go sends a BDP ping after each response it receives; the client ports answer it with the next response
/// instead of in a write of its own (<c>PingAckCoalescingWriter</c>, BENCHMARKS.md "grpc-go's BDP pings"). etcd's Go
/// client (<see cref="GoClientV3"/>) runs its kv check, one connection, many calls in a row, in cleartext and over TLS
/// (HTTP/2 chosen by ALPN): every call answered, and the node counts ACKs that waited for a response.
/// </summary>
public sealed class GoClientPingAckTests
{
    [Fact]
    public async Task GrpcGoPingAcksLeaveWithTheNextResponse()
    {
        using var node = SharedNode.Get();
        await AssertCoalescedAsync(node.Http, node.Url, () => GoClientV3.PassesAsync("kv", node.Grpc));
    }

    [Fact]
    public async Task OverTlsToo()
    {
        using var kit = new TlsTestKit();
        using var c = kit.Cluster(1);
        c.StartAll();
        var node = await c.WaitForLeaderAsync();
        await c.WaitReadyAsync();
        await AssertCoalescedAsync(c.Http, node.Http, () => GoClientV3.PassesAsync("kv", node.Grpc, c, "-cacert", kit.CaFile));
    }

    /// <summary>Runs <paramref name="check"/> (it must pass) and asserts the node at <paramref name="url"/> counted
    /// coalesced ACKs meanwhile.</summary>
    private static async Task AssertCoalescedAsync(HttpClient http, string url, Func<Task> check)
    {
        var before = await CoalescedAsync(http, url);
        await check();
        var after = await CoalescedAsync(http, url);
        Assert.True(after > before, $"raftkv_http2_ping_acks_coalesced_total {before} → {after}");
    }

    private static async Task<double> CoalescedAsync(HttpClient http, string url)
        => PrometheusText.Parse(await http.GetStringAsync(url + "/metrics")).Value("raftkv_http2_ping_acks_coalesced_total")
            ?? throw new InvalidOperationException("raftkv_http2_ping_acks_coalesced_total is not exported");
}
