using System.Collections.Concurrent;
using System.Globalization;
using System.Net.Sockets;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Grpc.Net.Client;
using RaftKv.Replication.Api;
using RaftKv.Server.Security;

namespace RaftKv.Server.Pipeline;

/// <summary>
/// gRPC leader forwarding, a server interceptor: a write method (<see cref="ForwardedMethods"/>)
/// received by a follower is sent unchanged to the leader's gRPC endpoint (one hop) with the caller's
/// deadline, cancellation and meaningful metadata (<see cref="ForwardedHeaders"/>: authorization,
/// x-request-id, …; the request id of the native API is in the message body), and the leader's answer
/// — or its <see cref="RpcException"/> — is returned as is. A forwarded call carries
/// <see cref="ForwardedHeader"/> and is never forwarded again: it fails with
/// <see cref="NotLeaderException"/> (FAILED_PRECONDITION with the leader's address). A hop that could not
/// connect (the leader died; <see cref="NotDelivered"/>) is routed again once the followers elect a new leader.
/// A call that may have reached the leader is never sent again (it could apply twice): it is abandoned as soon as
/// that leader loses leadership as this node sees it (<see cref="LeaderRouter.LeaderChange"/>; a frozen or cut-off
/// leader keeps its TCP connection open) with <see cref="LeaderChangedException"/> (etcd's "leader changed"), and
/// a call whose client set no earlier deadline ends after <see cref="LeaderRouter.ForwardTimeout"/> with
/// <see cref="ForwardTimeoutException"/> (etcd's "request timed out"). The client retries either, as with etcd.
/// etcd's <c>Lock/Lock</c> and <c>Election/Campaign</c>, which wait as long as their client wants, are not forwarded
/// whole: they run on the member called and send each of their writes to the leader (<see cref="Etcd.ConcurrencyUpstream"/>).
/// Refusals are routine (a client redirect), never errors: <see cref="GrpcOperationInterceptor"/> logs them at Debug.
/// The leader answers a forwarded call with its applied index (<see cref="AppliedIndexTrailer"/>) and the follower
/// answers its client once it has applied that much (<see cref="LeaderRouter.CatchUpAsync"/>): a write is visible on the
/// member that acknowledged it, as with etcd, whose members each apply a proposal before answering it.
/// </summary>
public sealed class GrpcLeaderForwarder(LeaderRouter router, LeaderTransport transport) : Interceptor, IDisposable
{
    public const string ForwardedHeader = "raftkv-forwarded";

    /// <summary>The trailer of the leader's answer to a forwarded call: its applied Raft index when it answered.</summary>
    public const string AppliedIndexTrailer = "raftkv-applied-index";

    /// <summary>Full names of the unary methods that write or need the leader (the ones forwarded).</summary>
    public static readonly IReadOnlySet<string> ForwardedMethods = new HashSet<string>(StringComparer.Ordinal)
    {
        "/raftkv.v1.KV/Put", "/raftkv.v1.KV/Delete", "/raftkv.v1.KV/Txn",
        "/raftkv.v1.Cluster/AddMember", "/raftkv.v1.Cluster/RemoveMember", "/raftkv.v1.Cluster/PromoteMember", "/raftkv.v1.Cluster/CorruptionCheck", "/raftkv.v1.Cluster/AssignSimpleToken",
        "/etcdserverpb.KV/Put", "/etcdserverpb.KV/DeleteRange", "/etcdserverpb.KV/Txn", "/etcdserverpb.KV/Compact",
        "/etcdserverpb.Cluster/MemberAdd", "/etcdserverpb.Cluster/MemberRemove", "/etcdserverpb.Cluster/MemberPromote", "/etcdserverpb.Cluster/MemberUpdate", "/etcdserverpb.Maintenance/Alarm", "/etcdserverpb.Maintenance/MoveLeader",
        "/etcdserverpb.Lease/LeaseGrant", "/etcdserverpb.Lease/LeaseRevoke", "/etcdserverpb.Lease/LeaseTimeToLive",
        "/etcdserverpb.Auth/AuthEnable", "/etcdserverpb.Auth/AuthDisable", "/etcdserverpb.Auth/UserAdd", "/etcdserverpb.Auth/UserDelete",
        "/etcdserverpb.Auth/UserChangePassword", "/etcdserverpb.Auth/UserGrantRole", "/etcdserverpb.Auth/UserRevokeRole",
        "/etcdserverpb.Auth/RoleAdd", "/etcdserverpb.Auth/RoleDelete", "/etcdserverpb.Auth/RoleGrantPermission", "/etcdserverpb.Auth/RoleRevokePermission",

        // etcd's Lock and Election calls that are one write. Lock and Campaign are not here: they wait as long as their
        // client wants, on the member called (so a leader change does not end the wait), and send each write to the
        // leader themselves (Etcd.ConcurrencyUpstream); Leader and Observe read on any member.
        "/v3lockpb.Lock/Unlock", "/v3electionpb.Election/Proclaim", "/v3electionpb.Election/Resign",
    };

    /// <summary>Forward attempts of one call: the first, and one more after the leader it went to turned out
    /// unreachable before the request was sent (<see cref="NotDelivered"/>), or lost leadership before it was sent.</summary>
    private const int MaxHops = 2;

    private readonly ConcurrentDictionary<string, GrpcChannel> _channels = new(StringComparer.Ordinal);

    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(continuation);

        // The common cases without an async frame of their own: a method that is never forwarded, and a
        // write on the leader (what RouteAsync answers at once there: LeaderRouter.IsLeader) sent by its client.
        if (!ForwardedMethods.Contains(context.Method))
        {
            return continuation(request, context);
        }

        if (router.IsLeader)
        {
            return IsForwarded(context) ? AnswerForwardedAsync(request, context, continuation) : continuation(request, context);
        }

        return ForwardAsync(request, context, continuation);
    }

    private async Task<TResponse> ForwardAsync<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
        where TRequest : class
        where TResponse : class
    {
        var forwarded = context.RequestHeaders.Get(ForwardedHeader) is not null;
        var deadline = Bound(context, router.ForwardTimeout);
        var route = await router.RouteAsync(forwarded, GrpcAddressOf, context.CancellationToken).ConfigureAwait(false);
        for (var hop = 1; ; hop++)
        {
            if (route.IsLocal)
            {
                return forwarded ? await AnswerForwardedAsync(request, context, continuation).ConfigureAwait(false) : await continuation(request, context).ConfigureAwait(false);
            }

            if (route.Kind != LeaderRouteKind.Forward)
            {
                throw new NotLeaderException(route.Leader);
            }

            var slash = context.Method.LastIndexOf('/');
            var method = new Method<TRequest, TResponse>(
                MethodType.Unary, context.Method[1..slash], context.Method[(slash + 1)..], ProtobufMarshaller<TRequest>.Instance, ProtobufMarshaller<TResponse>.Instance);
            var leaderChange = LeaderRouter.HandsOverLeadership(context.Method) ? CancellationToken.None : router.LeaderChange(route);
            if (leaderChange.IsCancellationRequested && hop < MaxHops)
            {
                // Leadership moved between routing and sending: nothing was sent, route to the new leader.
                route = await router.RouteAsync(forwarded, GrpcAddressOf, context.CancellationToken, unreachable: route.Leader?.Id).ConfigureAwait(false);
                continue;
            }

            using var abandon = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, leaderChange);
            try
            {
                using var call = ChannelTo(route.Address).CreateCallInvoker().AsyncUnaryCall(method, null, Options(context, deadline, abandon.Token), request);
                var response = await call.ResponseAsync.ConfigureAwait(false);
                if (!LeaderRouter.AnswersWithoutCatchUp(context.Method) && AppliedIndexOf(call.GetTrailers()) is { } leaderApplied)
                {
                    await router.CatchUpAsync(leaderApplied, deadline, context.CancellationToken).ConfigureAwait(false);
                }

                return response;
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.Cancelled && leaderChange.IsCancellationRequested && !context.CancellationToken.IsCancellationRequested)
            {
                // The leader it went to lost leadership while the call was out (frozen, cut off, deposed): the
                // request may have reached it, so it is not sent again; the client retries (etcd: leader changed).
                throw new LeaderChangedException(route.Leader?.Id);
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.DeadlineExceeded && deadline < context.Deadline)
            {
                throw new ForwardTimeoutException(route.Leader?.Id, router.ForwardTimeout); // this node's bound, not the client's deadline
            }
            catch (RpcException e) when (hop < MaxHops && NotDelivered(e) && !context.CancellationToken.IsCancellationRequested)
            {
                // The leader this node knew is gone (killed, or its port closed) and the request never left:
                // wait for the election that follows and send it to the new leader instead.
                var next = await router.RouteAsync(forwarded, GrpcAddressOf, context.CancellationToken, unreachable: route.Leader?.Id).ConfigureAwait(false);
                if (next.Kind == LeaderRouteKind.Forward && next.Leader?.Id == route.Leader?.Id)
                {
                    throw; // no new leader within the wait: the client retries (UNAVAILABLE)
                }

                route = next;
            }
            catch (RpcException e) when (LostInFlight(e) && !context.CancellationToken.IsCancellationRequested)
            {
                // The connection to the leader broke while the call was out (the leader killed or restarted): the
                // request may have been applied, so it is not sent again; the client retries, as after etcd's
                // "leader changed" (not the transport's own exception text).
                throw new LeaderChangedException(route.Leader?.Id);
            }
        }
    }

    private static string GrpcAddressOf(MemberInfo member) => member.GrpcAddress;

    /// <summary>The leader's side of a forwarded call: answers it with <see cref="AppliedIndexTrailer"/> (after the
    /// handler, so the index covers the write; not on an error, which changed nothing to wait for).</summary>
    private async Task<TResponse> AnswerForwardedAsync<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
        where TRequest : class
        where TResponse : class
    {
        var response = await continuation(request, context).ConfigureAwait(false);
        context.ResponseTrailers.Add(AppliedIndexTrailer, router.AppliedIndex.ToString(CultureInfo.InvariantCulture));
        return response;
    }

    /// <summary>The leader's applied index from its answer's trailers, or null (a leader of an older release sends none).</summary>
    internal static long? AppliedIndexOf(Metadata trailers)
        => trailers.Get(AppliedIndexTrailer)?.Value is { } text && long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var index) ? index : null;

    /// <summary>True when the call came from a follower (<see cref="ForwardedHeader"/>); read from the HTTP request's
    /// headers, which the gRPC metadata would copy.</summary>
    private static bool IsForwarded(ServerCallContext context)
        => HttpOf(context) is { } http ? http.Request.Headers.ContainsKey(ForwardedHeader) : context.RequestHeaders.Get(ForwardedHeader) is not null;

    /// <summary>The (shared) channel to a member's gRPC address, for a service that forwards a stream
    /// itself (etcd's LeaseKeepAlive, <see cref="Etcd.LeaseKeepAliveUpstream"/>).</summary>
    public GrpcChannel ChannelTo(string address) => _channels.GetOrAdd(address, transport.CreateChannel);

    /// <summary>The options of a call forwarded for <paramref name="context"/> (its deadline, cancellation,
    /// forwarded metadata and the <see cref="ForwardedHeader"/> marker).</summary>
    public static CallOptions ForwardOptions(ServerCallContext context) => Options(context, context.Deadline, context.CancellationToken);

    /// <summary>The options of a call a service sends to the leader on behalf of <paramref name="context"/>'s caller
    /// (the forwarded metadata — on auth, a token minted for the caller — and the <see cref="ForwardedHeader"/>
    /// marker), with its own <paramref name="deadline"/> and <paramref name="cancellationToken"/>.</summary>
    /// <remarks>On auth the token is minted now (<see cref="Security.Auth.AuthPrincipal.FreshForwardToken"/>): the caller's call
    /// may have lasted longer than a token lives (a Lock that waited).</remarks>
    public static CallOptions ForwardOptions(ServerCallContext context, DateTime deadline, CancellationToken cancellationToken)
        => Options(context, deadline, cancellationToken, freshToken: true);

    /// <summary>The deadline of a call forwarded for <paramref name="context"/>: the client's, or
    /// now + <paramref name="bound"/> when that is earlier (no client deadline is <see cref="DateTime.MaxValue"/>).</summary>
    internal static DateTime Bound(ServerCallContext context, TimeSpan bound)
    {
        var ours = DateTime.UtcNow + bound;
        return ours < context.Deadline ? ours : context.Deadline;
    }

    public void Dispose()
    {
        foreach (var c in _channels.Values)
        {
            c.Dispose();
        }
    }

    private static CallOptions Options(ServerCallContext context, DateTime deadline, CancellationToken cancellationToken, bool freshToken = false)
    {
        var headers = new Metadata();

        // Auth on: the user goes to the leader as a token this node minted (signed with the cluster key),
        // never as a name the leader would have to trust; the caller's own credentials stay here.
        var principal = Security.Auth.AuthPrincipal.Of(HttpOf(context));
        foreach (var entry in context.RequestHeaders)
        {
            if (ForwardedHeaders.ForwardGrpc(entry.Key) && !string.Equals(entry.Key, ForwardedHeader, StringComparison.OrdinalIgnoreCase)
                && (principal is null || !IsCredential(entry.Key)))
            {
                headers.Add(entry);
            }
        }

        if (principal is not null)
        {
            headers.Add(GrpcAuthInterceptor.TokenHeader, freshToken ? principal.FreshForwardToken() : principal.ForwardToken);
        }

        headers.Add(ForwardedHeader, "1");
        return new CallOptions(headers, deadline, cancellationToken);
    }

    /// <summary>True when a forwarded call failed before its request was sent: no connection to the leader
    /// could be made (refused, unreachable). Such a call can be sent elsewhere without risk of running twice;
    /// any other failure (a connection lost mid-call, a deadline) may have reached the leader and is returned.</summary>
    internal static bool NotDelivered(RpcException e)
    {
        if (e.StatusCode != StatusCode.Unavailable)
        {
            return false;
        }

        for (var x = e.Status.DebugException; x is not null; x = x.InnerException)
        {
            if (x is HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError }
                or SocketException { SocketErrorCode: SocketError.ConnectionRefused or SocketError.HostUnreachable or SocketError.NetworkUnreachable })
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>True when a forwarded call failed in this node's transport after its request may have left (the
    /// connection reset or closed mid-call): UNAVAILABLE with a local exception behind it, not an answer of the leader
    /// and not <see cref="NotDelivered"/>.</summary>
    internal static bool LostInFlight(RpcException e)
    {
        if (e.StatusCode != StatusCode.Unavailable || e.Status.DebugException is null || NotDelivered(e))
        {
            return false;
        }

        for (var x = e.Status.DebugException; x is not null; x = x.InnerException)
        {
            if (x is HttpRequestException or IOException or SocketException)
            {
                return true;
            }
        }

        return false;
    }

    private static bool IsCredential(string key)
        => key.Equals(GrpcAuthInterceptor.TokenHeader, StringComparison.OrdinalIgnoreCase) || key.Equals("authorization", StringComparison.OrdinalIgnoreCase);

    private static HttpContext? HttpOf(ServerCallContext context)
    {
        try
        {
            return context.GetHttpContext();
        }
        catch (InvalidOperationException)
        {
            return null; // a context not served by ASP.NET Core (tests)
        }
    }
}
