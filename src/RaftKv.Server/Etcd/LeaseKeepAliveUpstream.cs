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
/// Each renewal is bounded (<see cref="KeepAliveAsync"/>): renewed through the next leader when the one it went to
/// loses leadership, and failed after <see cref="LeaderRouter.ForwardTimeout"/>.
/// </summary>
/// <remarks>Not thread-safe: one per client stream, used by that stream's loop only.</remarks>
public sealed class LeaseKeepAliveUpstream(GrpcLeaderForwarder forwarder, LeaderRouter router, ServerCallContext context) : IDisposable
{
    private static readonly Method<V3.LeaseKeepAliveRequest, V3.LeaseKeepAliveResponse> KeepAliveMethod = new(
        MethodType.DuplexStreaming, "etcdserverpb.Lease", "LeaseKeepAlive", ProtobufMarshaller<V3.LeaseKeepAliveRequest>.Instance, ProtobufMarshaller<V3.LeaseKeepAliveResponse>.Instance);

    /// <summary>The pause before a renewal is tried again after a transient failure (etcd's follower: 50 ms).</summary>
    private static readonly TimeSpan RetryPause = TimeSpan.FromMilliseconds(50);

    private AsyncDuplexStreamingCall<V3.LeaseKeepAliveRequest, V3.LeaseKeepAliveResponse>? _call;
    private string _address = string.Empty;

    /// <summary>Whether the client's call was itself forwarded (then it must not be forwarded again).</summary>
    public bool AlreadyForwarded => context.RequestHeaders.Get(GrpcLeaderForwarder.ForwardedHeader) is not null;

    /// <summary>Renews <paramref name="request"/>'s lease through the leader; null when this node became the leader
    /// meanwhile (renew it here). While no leader is known it waits for one, up to the renewal's bound. Throws
    /// <see cref="NotLeaderException"/> when the call was already forwarded, the leader's <see cref="RpcException"/>
    /// when it is not transient (<see cref="Transient"/>; a transient one is retried every 50 ms), and
    /// <see cref="ForwardTimeoutException"/> when no leader answered within <see cref="LeaderRouter.ForwardTimeout"/>
    /// (etcd's "request timed out", as etcd's follower answers a renewal it could not get through in its request timeout).</summary>
    /// <remarks>A renewal is idempotent, so unlike a forwarded write it is sent again when the leader it went to loses
    /// leadership before answering (<see cref="LeaderRouter.LeaderChange"/>; a frozen leader keeps its stream open):
    /// the upstream stream is reopened to the new leader, as etcd's follower retries a renewal on the new leader.</remarks>
    public async Task<V3.LeaseKeepAliveResponse?> KeepAliveAsync(V3.LeaseKeepAliveRequest request, CancellationToken cancellationToken)
    {
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bounded.CancelAfter(router.ForwardTimeout); // the timer goes with the source, at the end of this renewal
        try
        {
            while (true)
            {
                var route = await router.RouteAsync(AlreadyForwarded, m => m.GrpcAddress, bounded.Token).ConfigureAwait(false);
                bounded.Token.ThrowIfCancellationRequested();
                if (route.IsLocal)
                {
                    Reset();
                    return null; // this node took over (e.g. the leader it forwarded to froze): the caller renews here
                }

                if (route.Kind == LeaderRouteKind.NoLeader && !AlreadyForwarded)
                {
                    continue; // an election outlasted LeaderWait: wait on until the renewal's bound, as etcd's follower does
                }

                if (route.Kind != LeaderRouteKind.Forward)
                {
                    throw new NotLeaderException(route.Leader);
                }

                var leaderChange = router.LeaderChange(route);
                if (_call is null || _address != route.Address)
                {
                    Reset();
                    // Options with a token minted now: the client's stream may have outlived the token minted when
                    // it was first forwarded (a keep-alive stream lives as long as its lease is kept).
                    _call = forwarder.ChannelTo(route.Address).CreateCallInvoker().AsyncDuplexStreamingCall(
                        KeepAliveMethod, null, GrpcLeaderForwarder.ForwardOptions(context, context.Deadline, context.CancellationToken));
                    _address = route.Address;
                }

                using var attempt = CancellationTokenSource.CreateLinkedTokenSource(bounded.Token, leaderChange);
                try
                {
                    await _call.RequestStream.WriteAsync(request, attempt.Token).ConfigureAwait(false);
                    if (await _call.ResponseStream.MoveNext(attempt.Token).ConfigureAwait(false))
                    {
                        return _call.ResponseStream.Current;
                    }

                    throw new RpcException(new Status(StatusCode.Unavailable, "the leader closed the keep-alive stream"));
                }
                catch (Exception e) when (e is RpcException or OperationCanceledException && leaderChange.IsCancellationRequested && !bounded.IsCancellationRequested)
                {
                    Reset(); // the leader lost leadership before it answered: renew through the next one
                }
                catch (Exception e) when (Transient(e) && !bounded.IsCancellationRequested)
                {
                    // The leader went away, is not ready yet (a new leader promotes its lessor first), or the upstream
                    // stream was completed underneath us: route again after a pause, until the bound (etcd's follower
                    // retries a renewal the same way, every 50 ms until its request timeout).
                    Reset();
                    await Task.Delay(RetryPause, bounded.Token).ConfigureAwait(false);
                }
            }
        }
        catch (Exception e) when (e is RpcException or OperationCanceledException && bounded.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            Reset();
            throw new ForwardTimeoutException(null, router.ForwardTimeout);
        }
    }

    public void Dispose() => Reset();

    /// <summary>An upstream failure worth another try: the stream broke or was closed, the leader could not be reached
    /// or is not (yet) the leader. Anything else (bad input, auth) is the answer.</summary>
    private static bool Transient(Exception e) => e is InvalidOperationException
        || e is RpcException { StatusCode: StatusCode.Unavailable or StatusCode.FailedPrecondition or StatusCode.Cancelled or StatusCode.Internal or StatusCode.Unknown };

    private void Reset()
    {
        _call?.Dispose();
        _call = null;
        _address = string.Empty;
    }
}
