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
}
