namespace RaftKv.EndToEnd.Tests.Etcd.Clients;

/// <summary>
/// grpc-go sends a BDP ping after each response it receives; the client ports answer it with the next response
/// instead of in a write of its own (<c>PingAckCoalescingWriter</c>, BENCHMARKS.md "grpc-go's BDP pings"). etcd's Go
/// client (<see cref="GoClientV3"/>) runs its kv check, one connection, many calls in a row: every call answered, and
/// the node counts ACKs that waited for a response.
/// </summary>
public sealed class GoClientPingAckTests
{
    [Fact]
    public async Task GrpcGoPingAcksLeaveWithTheNextResponse()
    {
        using var node = SharedNode.Get();
        var before = await CoalescedAsync(node);
        await GoClientV3.PassesAsync("kv", node.Grpc);
        var after = await CoalescedAsync(node);
        Assert.True(after > before, $"raftkv_http2_ping_acks_coalesced_total {before} → {after}");
    }

    private static async Task<double> CoalescedAsync(SharedNode node)
        => PrometheusText.Parse(await node.Http.GetStringAsync("http://" + node.Grpc + "/metrics")).Value("raftkv_http2_ping_acks_coalesced_total")
            ?? throw new InvalidOperationException("raftkv_http2_ping_acks_coalesced_total is not exported");
}
