using Grpc.Core;
using RaftKv.Replication.Api;
using RaftKv.Server.Etcd.Concurrency;
using RaftKv.Server.Pipeline;
using V3 = RaftKv.Protocol.Etcd;

namespace RaftKv.Server.Etcd;

/// <summary>
/// The writes of one Lock or Election call (<see cref="IConcurrencyWriter"/>), routed one by one: applied here while
/// this node leads, else sent to the leader as etcd's own <c>KV/Txn</c> or <c>Lease/LeaseGrant</c> (one hop, the
/// caller's forwarded metadata: <see cref="GrpcLeaderForwarder.ForwardOptions(ServerCallContext, DateTime, CancellationToken)"/>),
/// so the leader checks the caller's permission on each key exactly as etcd checks each KV call of its v3lock with
/// the caller's token. Each write is routed when it is made, so a call that outlives a leader change writes through the
/// new leader.
/// </summary>
/// <remarks>
/// Retries, all within <see cref="LeaderRouter.ForwardTimeout"/> per write (then <see cref="ForwardTimeoutException"/>,
/// etcd's "request timed out"): a write that surely did not reach a leader (no connection could be made, leadership
/// moved before it was sent, the node was no longer the leader when it proposed it) is sent to the next leader; a write
/// whose outcome a leader change left unknown (the leader it went to lost leadership before it answered, or answered
/// UNAVAILABLE) is sent again only when it is idempotent, else it fails with <see cref="LeaderChangedException"/> or
/// the leader's status, as a forwarded call does. A call that was itself forwarded (<see cref="GrpcLeaderForwarder.ForwardedHeader"/>)
/// writes only here (<see cref="NotLeaderException"/> once this node no longer leads), never through a second hop.
/// Not thread-safe: one per call, used by that call only.
/// </remarks>
public sealed class ConcurrencyUpstream(IKvNode node, LeaderRouter router, GrpcLeaderForwarder forwarder, ServerCallContext context) : IConcurrencyWriter
{
    private static readonly Method<V3.TxnRequest, V3.TxnResponse> TxnMethod = new(
        MethodType.Unary, "etcdserverpb.KV", "Txn", ProtobufMarshaller<V3.TxnRequest>.Instance, ProtobufMarshaller<V3.TxnResponse>.Instance);

    private static readonly Method<V3.LeaseGrantRequest, V3.LeaseGrantResponse> LeaseGrantMethod = new(
        MethodType.Unary, "etcdserverpb.Lease", "LeaseGrant", ProtobufMarshaller<V3.LeaseGrantRequest>.Instance, ProtobufMarshaller<V3.LeaseGrantResponse>.Instance);

    /// <summary>The pause before a write is routed again after a transient failure (etcd's client backs off 25–50 ms).</summary>
    private static readonly TimeSpan RetryPause = TimeSpan.FromMilliseconds(50);

    /// <summary>Whether the client's call was itself forwarded (then its writes must not be forwarded again).</summary>
    public bool AlreadyForwarded => context.RequestHeaders.Get(GrpcLeaderForwarder.ForwardedHeader) is not null;

    /// <summary>The deadline of a write sent to the leader: the caller's while its call lasts; none once the call has
    /// ended (cancelled, or past its deadline), when the write left is the cleanup of an abandoned wait, which etcd sends on
    /// the client's own context rather than the call's: with the caller's past deadline every try would fail at once, and
    /// a waiter on a follower whose call ended by its deadline would leave its key until its lease ends. Each write stays
    /// bounded by <see cref="LeaderRouter.ForwardTimeout"/>.</summary>
    private DateTime CallDeadline => context.CancellationToken.IsCancellationRequested ? DateTime.MaxValue : context.Deadline;

    public Task<TxnResult> WriteAsync(KvTxn txn, bool idempotent, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(txn);
        return SendAsync(
            token => node.WriteAsync(txn, token),
            async (address, options) => EtcdMapping.ToApi(
                await forwarder.ChannelTo(address).CreateCallInvoker().AsyncUnaryCall(TxnMethod, null, options, EtcdMapping.ToProto(txn)).ConfigureAwait(false)),
            idempotent,
            cancellationToken);
    }

    public Task<long> LeaseGrantAsync(long ttlSeconds, CancellationToken cancellationToken)
        => SendAsync(
            async token => (await node.LeaseGrantAsync(0, ttlSeconds, token).ConfigureAwait(false)).Id,
            async (address, options) => (await forwarder.ChannelTo(address).CreateCallInvoker()
                .AsyncUnaryCall(LeaseGrantMethod, null, options, new V3.LeaseGrantRequest { TTL = ttlSeconds }).ConfigureAwait(false)).ID,
            idempotent: false,
            cancellationToken);

    private async Task<T> SendAsync<T>(Func<CancellationToken, Task<T>> local, Func<string, CallOptions, Task<T>> remote, bool idempotent, CancellationToken cancellationToken)
    {
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bounded.CancelAfter(router.ForwardTimeout); // the timer goes with the source, at the end of this write
        long? unreachable = null;
        try
        {
            while (true)
            {
                var route = await router.RouteAsync(AlreadyForwarded, m => m.GrpcAddress, bounded.Token, unreachable).ConfigureAwait(false);
                bounded.Token.ThrowIfCancellationRequested();
                unreachable = null;
                if (route.IsLocal)
                {
                    try
                    {
                        return await local(bounded.Token).ConfigureAwait(false);
                    }
                    catch (Exception e) when (!AlreadyForwarded && !bounded.IsCancellationRequested
                        && (e is NotLeaderException || (idempotent && e is UnavailableException { OutcomeUnknown: true })))
                    {
                        // Leadership moved away while this node wrote: not proposed (NotLeader), or an idempotent write
                        // whose outcome is unknown: route again, to the next leader.
                        await Task.Delay(RetryPause, bounded.Token).ConfigureAwait(false);
                        continue;
                    }
                }

                if (route.Kind == LeaderRouteKind.NoLeader && !AlreadyForwarded)
                {
                    continue; // an election outlasted LeaderWait: wait on, until this write's bound
                }

                if (route.Kind != LeaderRouteKind.Forward)
                {
                    throw new NotLeaderException(route.Leader);
                }

                var leaderChange = router.LeaderChange(route);
                if (leaderChange.IsCancellationRequested)
                {
                    continue; // leadership moved between routing and sending: nothing was sent
                }

                using var attempt = CancellationTokenSource.CreateLinkedTokenSource(bounded.Token, leaderChange);
                try
                {
                    return await remote(route.Address, GrpcLeaderForwarder.ForwardOptions(context, CallDeadline, attempt.Token)).ConfigureAwait(false);
                }
                catch (RpcException e) when (GrpcLeaderForwarder.NotDelivered(e) && !bounded.IsCancellationRequested)
                {
                    unreachable = route.Leader?.Id; // the leader is gone and the request never left: wait for the next one
                }
                catch (RpcException e) when (idempotent && !bounded.IsCancellationRequested
                    && ((e.StatusCode == StatusCode.Cancelled && leaderChange.IsCancellationRequested) || e.StatusCode == StatusCode.Unavailable))
                {
                    // The leader lost leadership before it answered (it may have applied the write), or answered that it
                    // is not the leader, no leader is known, or the commit's outcome is unknown: safe to send again.
                    await Task.Delay(RetryPause, bounded.Token).ConfigureAwait(false);
                }
                catch (RpcException e) when (e.StatusCode == StatusCode.Cancelled && leaderChange.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
                {
                    throw new LeaderChangedException(route.Leader?.Id); // may have applied: not sent again
                }
            }
        }
        catch (Exception e) when (e is RpcException or OperationCanceledException && bounded.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new ForwardTimeoutException(null, router.ForwardTimeout);
        }
    }
}
