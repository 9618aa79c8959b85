using System.Net.Sockets;
using Grpc.Core;
using RaftKv.Server.Pipeline;

namespace RaftKv.Server.Tests;

/// <summary>
/// The deadline of a forwarded gRPC call (<see cref="GrpcLeaderForwarder.Bound"/>): the forwarding bound when the
/// client set none or a later one, the client's when it is earlier; the calls that wait by design (a queued Lock or
/// Campaign) are not forwarded whole.
/// </summary>
public sealed class GrpcForwardBoundTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(7);

    [Fact]
    public void AClientWithoutADeadlineGetsTheForwardingBound()
    {
        var before = DateTime.UtcNow;
        var deadline = GrpcLeaderForwarder.Bound(new FakeCallContext("/etcdserverpb.KV/Put"), Bound);
        Assert.InRange(deadline, before + Bound, DateTime.UtcNow + Bound);
    }

    [Fact]
    public void AnEarlierClientDeadlineIsKept()
    {
        var early = DateTime.UtcNow.AddSeconds(1);
        Assert.Equal(early, GrpcLeaderForwarder.Bound(new FakeCallContext("/etcdserverpb.KV/Put", early), Bound));

        var late = DateTime.UtcNow.AddMinutes(10);
        Assert.True(GrpcLeaderForwarder.Bound(new FakeCallContext("/raftkv.v1.KV/Put", late), Bound) < late);
    }

    /// <summary>Lock and Campaign wait as long as their client wants: they are not forwarded whole (they run on the
    /// member called and send each write to the leader), so no forwarding bound or leader change ends their wait.</summary>
    [Theory]
    [InlineData("/v3lockpb.Lock/Lock")]
    [InlineData("/v3electionpb.Election/Campaign")]
    public void ACallThatWaitsByDesignIsNotForwardedWhole(string method)
        => Assert.DoesNotContain(method, GrpcLeaderForwarder.ForwardedMethods);

    /// <summary>A connection to the leader reset mid-call is "leader changed" for the client (it may have been applied:
    /// not resent); a refused connection was never delivered (resent to the next leader); an UNAVAILABLE answered by the
    /// leader itself stays as it is.</summary>
    [Fact]
    public void AConnectionLostMidCallIsToldApartFromOneNeverMadeAndFromTheLeadersAnswer()
    {
        var reset = new RpcException(new Status(StatusCode.Unavailable, "Error starting gRPC call.",
            new HttpRequestException("An error occurred while sending the request.", new IOException("reset", new SocketException((int)SocketError.ConnectionReset)))));
        Assert.True(GrpcLeaderForwarder.LostInFlight(reset));
        Assert.False(GrpcLeaderForwarder.NotDelivered(reset));

        var refused = new RpcException(new Status(StatusCode.Unavailable, "Error connecting to subchannel.",
            new HttpRequestException(HttpRequestError.ConnectionError, "refused", new SocketException((int)SocketError.ConnectionRefused))));
        Assert.True(GrpcLeaderForwarder.NotDelivered(refused));
        Assert.False(GrpcLeaderForwarder.LostInFlight(refused));

        Assert.False(GrpcLeaderForwarder.LostInFlight(new RpcException(new Status(StatusCode.Unavailable, "etcdserver: no leader"))));
        Assert.False(GrpcLeaderForwarder.LostInFlight(new RpcException(new Status(StatusCode.DeadlineExceeded, "late", new IOException("x")))));
    }
}
