using System.Net;
using System.Net.Sockets;

namespace RaftKv.Replication.Tests;

/// <summary>Raft address resolution (<see cref="EndPoints"/>): literals without DNS, malformed text as a
/// <see cref="FormatException"/>, a name that never resolves as a <see cref="SocketException"/> after the timeout
/// (both forms), and the asynchronous form gives its thread back and honours cancellation.</summary>
public sealed class EndPointsTests
{
    // RFC 2606 reserves .invalid: it never resolves.
    private const string Unresolvable = "raftkv-test.invalid:7000";

    [Theory]
    [InlineData("127.0.0.1:7000", "127.0.0.1", 7000)]
    [InlineData("[::1]:7001", "::1", 7001)]
    public async Task LiteralAddressesNeedNoLookup(string text, string ip, int port)
    {
        var expected = new IPEndPoint(IPAddress.Parse(ip), port);
        Assert.Equal(expected, EndPoints.Resolve(text, TimeSpan.Zero));
        Assert.Equal(expected, await EndPoints.ResolveAsync(text, TimeSpan.Zero, CancellationToken.None));
    }

    [Theory]
    [InlineData("no-port")]
    [InlineData(":7000")]
    [InlineData("host:0")]
    [InlineData("host:65536")]
    [InlineData("host:-1")]
    [InlineData("host:port")]
    public async Task MalformedAddressesAreFormatErrors(string text)
    {
        Assert.Throws<FormatException>(() => EndPoints.Resolve(text, TimeSpan.FromSeconds(5)));
        await Assert.ThrowsAsync<FormatException>(() => EndPoints.ResolveAsync(text, TimeSpan.FromSeconds(5), CancellationToken.None));
    }

    [Fact]
    public async Task LocalhostResolves()
    {
        var ep = await EndPoints.ResolveAsync("localhost:7002", TimeSpan.FromSeconds(5), CancellationToken.None);
        Assert.True(IPAddress.IsLoopback(ep.Address));
        Assert.Equal(7002, ep.Port);
    }

    [Fact]
    public async Task ANameThatNeverResolvesIsASocketErrorAfterTheTimeout()
    {
        Assert.ThrowsAny<SocketException>(() => EndPoints.Resolve(Unresolvable, TimeSpan.Zero));
        await Assert.ThrowsAnyAsync<SocketException>(() => EndPoints.ResolveAsync(Unresolvable, TimeSpan.Zero, CancellationToken.None));
    }

    [Fact]
    public async Task CancellationStopsTheRetries()
    {
        using var cts = new CancellationTokenSource();
        var resolving = EndPoints.ResolveAsync(Unresolvable, TimeSpan.FromMinutes(10), cts.Token);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => resolving);
    }
}
