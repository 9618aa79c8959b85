using Grpc.Core;
using RaftKv.Replication.Api;
using RaftKv.Server.Pipeline;
using V3 = RaftKv.Protocol.Etcd;

namespace RaftKv.Server.Etcd;

/// <summary>
/// Keep-alives a follower received, forwarded to the leader: one upstream <c>LeaseKeepAlive</c> stream to the
/// leader's gRPC address per client stream, opened at the first request this node cannot answer (keep-alives
/// renew only on the leader) and reopened when the leader changes or the stream breaks. Each request is
/// written upstream and its one answer read back before the next (the client's stream stays in order). The
/// upstream call carries <see cref="GrpcLeaderForwarder.ForwardedHeader"/>, so it is never forwarded twice.
/// </summary>
/// <remarks>Not thread-safe: one per client stream, used by that stream's loop only.</remarks>
public sealed class LeaseKeepAliveUpstream(GrpcLeaderForwarder forwarder, LeaderRouter router, ServerCallContext context) : IDisposable
{
    private static readonly Method<V3.LeaseKeepAliveRequest, V3.LeaseKeepAliveResponse> KeepAliveMethod = new(
        MethodType.DuplexStreaming, "etcdserverpb.Lease", "LeaseKeepAlive", ProtobufMarshaller<V3.LeaseKeepAliveRequest>.Instance, ProtobufMarshaller<V3.LeaseKeepAliveResponse>.Instance);

    private AsyncDuplexStreamingCall<V3.LeaseKeepAliveRequest, V3.LeaseKeepAliveResponse>? _call;
    private string _address = string.Empty;

    /// <summary>Whether the client's call was itself forwarded (then it must not be forwarded again).</summary>
    public bool AlreadyForwarded => context.RequestHeaders.Get(GrpcLeaderForwarder.ForwardedHeader) is not null;

    /// <summary>Renews <paramref name="request"/>'s lease through the leader. Throws
    /// <see cref="NotLeaderException"/> when no leader is known (or the call was already forwarded), and the
    /// leader's <see cref="RpcException"/> when the upstream stream fails twice.</summary>
    public async Task<V3.LeaseKeepAliveResponse> KeepAliveAsync(V3.LeaseKeepAliveRequest request, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            var route = await router.RouteAsync(AlreadyForwarded, m => m.GrpcAddress, cancellationToken).ConfigureAwait(false);
            if (route.Kind != LeaderRouteKind.Forward)
            {
                throw new NotLeaderException(route.Leader);
            }

            if (_call is null || _address != route.Address)
            {
                Reset();
                _call = forwarder.ChannelTo(route.Address).CreateCallInvoker().AsyncDuplexStreamingCall(KeepAliveMethod, null, GrpcLeaderForwarder.ForwardOptions(context));
                _address = route.Address;
            }

            try
            {
                await _call.RequestStream.WriteAsync(request, cancellationToken).ConfigureAwait(false);
                if (await _call.ResponseStream.MoveNext(cancellationToken).ConfigureAwait(false))
                {
                    return _call.ResponseStream.Current;
                }

                throw new RpcException(new Status(StatusCode.Unavailable, "the leader closed the keep-alive stream"));
            }
            catch (RpcException) when (attempt < 2 && !cancellationToken.IsCancellationRequested)
            {
                Reset(); // the leader changed or went away: route again
            }
            catch (InvalidOperationException) when (attempt < 2 && !cancellationToken.IsCancellationRequested)
            {
                Reset(); // the upstream stream was completed underneath us
            }
        }
    }

    public void Dispose() => Reset();

    private void Reset()
    {
        _call?.Dispose();
        _call = null;
        _address = string.Empty;
    }
}
