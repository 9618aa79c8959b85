using Grpc.Core;
using Microsoft.Extensions.Logging.Abstractions;
using RaftKv.Replication.Api;
using RaftKv.Server.Pipeline;

namespace RaftKv.Server.Tests;

/// <summary>Streaming calls end with the same mapped status as unary ones: <see cref="GrpcOperationInterceptor"/>
/// is the one error-mapping home of every call kind (a domain exception must never reach a client as UNKNOWN).</summary>
public sealed class StreamingErrorMappingTests
{
    private readonly GrpcOperationInterceptor _interceptor = new(NullLogger<GrpcOperationInterceptor>.Instance);

    private static async Task<RpcException> EndsWith(Func<Task> call) => await Assert.ThrowsAsync<RpcException>(call);

    [Theory]
    [InlineData("/etcdserverpb.Watch/Watch", StatusCode.OutOfRange, "etcdserver: mvcc: required revision has been compacted")]
    [InlineData("/etcdserverpb.Maintenance/Snapshot", StatusCode.OutOfRange, "etcdserver: mvcc: required revision has been compacted")]
    [InlineData("/raftkv.v1.KV/Watch", StatusCode.OutOfRange, null)]
    public async Task EveryCallKindMapsDomainErrors(string method, StatusCode code, string? etcdMessage)
    {
        static Exception Domain() => new RevisionCompactedException(3, 7);
        var unary = await EndsWith(() => _interceptor.UnaryServerHandler<string, string>("req", new FakeCallContext(method), (_, _) => throw Domain()));
        var server = await EndsWith(() => _interceptor.ServerStreamingServerHandler<string, string>("req", null!, new FakeCallContext(method), (_, _, _) => throw Domain()));
        var duplex = await EndsWith(() => _interceptor.DuplexStreamingServerHandler<string, string>(null!, null!, new FakeCallContext(method), async (_, _, _) =>
        {
            await Task.Yield(); // fails after the stream started, as a watch does
            throw Domain();
        }));
        var client = await EndsWith(() => _interceptor.ClientStreamingServerHandler<string, string>(null!, new FakeCallContext(method), (_, _) => throw Domain()));
        foreach (var e in new[] { server, duplex, client })
        {
            Assert.Equal(unary.StatusCode, e.StatusCode);
            Assert.Equal(unary.Status.Detail, e.Status.Detail);
        }

        Assert.Equal(code, duplex.StatusCode);
        if (etcdMessage is not null)
        {
            Assert.Equal(etcdMessage, duplex.Status.Detail);
        }
    }

    [Fact]
    public async Task AStatusAStreamChoseItselfPassesThrough()
    {
        var own = new RpcException(new Status(StatusCode.InvalidArgument, "etcdserver: request is malformed"));
        var e = await EndsWith(() => _interceptor.DuplexStreamingServerHandler<string, string>(null!, null!, new FakeCallContext("/etcdserverpb.Watch/Watch"), (_, _, _) => throw own));
        Assert.Same(own, e);
    }

    /// <summary>A client that resets its stream (etcdctl's <c>lease keep-alive --once</c>) makes the handler's next read
    /// throw an IOException: that is the client's cancellation (CANCELLED), not a server failure (INTERNAL, logged as an error).</summary>
    [Fact]
    public async Task AStreamTheClientResetEndsCancelledNotInternal()
    {
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        static Task Reset() => throw new IOException("The client reset the request stream.");
        var e = await EndsWith(() => _interceptor.DuplexStreamingServerHandler<string, string>(null!, null!, new FakeCallContext("/etcdserverpb.Lease/LeaseKeepAlive", cancellationToken: cancelled.Token), (_, _, _) => Reset()));
        Assert.Equal(StatusCode.Cancelled, e.StatusCode);

        // The same failure while the client is still there stays a server error.
        var live = await EndsWith(() => _interceptor.DuplexStreamingServerHandler<string, string>(null!, null!, new FakeCallContext("/etcdserverpb.Lease/LeaseKeepAlive"), (_, _, _) => Reset()));
        Assert.Equal(StatusCode.Internal, live.StatusCode);
    }
}
