using System.Collections.Concurrent;
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
/// <see cref="NotLeaderException"/> (FAILED_PRECONDITION with the leader's address).
/// </summary>
public sealed class GrpcLeaderForwarder(LeaderRouter router, LeaderTransport transport) : Interceptor, IDisposable
{
    public const string ForwardedHeader = "raftkv-forwarded";

    /// <summary>Full names of the unary methods that write or need the leader (the ones forwarded).</summary>
    public static readonly IReadOnlySet<string> ForwardedMethods = new HashSet<string>(StringComparer.Ordinal)
    {
        "/raftkv.v1.KV/Put", "/raftkv.v1.KV/Delete", "/raftkv.v1.KV/Txn",
        "/etcdserverpb.KV/Put", "/etcdserverpb.KV/DeleteRange", "/etcdserverpb.KV/Txn", "/etcdserverpb.KV/Compact",
        "/etcdserverpb.Cluster/MemberAdd", "/etcdserverpb.Cluster/MemberRemove", "/etcdserverpb.Maintenance/Alarm", "/etcdserverpb.Maintenance/MoveLeader",
        "/etcdserverpb.Lease/LeaseGrant", "/etcdserverpb.Lease/LeaseRevoke", "/etcdserverpb.Lease/LeaseTimeToLive",
        "/etcdserverpb.Auth/AuthEnable", "/etcdserverpb.Auth/AuthDisable", "/etcdserverpb.Auth/UserAdd", "/etcdserverpb.Auth/UserDelete",
        "/etcdserverpb.Auth/UserChangePassword", "/etcdserverpb.Auth/UserGrantRole", "/etcdserverpb.Auth/UserRevokeRole",
        "/etcdserverpb.Auth/RoleAdd", "/etcdserverpb.Auth/RoleDelete", "/etcdserverpb.Auth/RoleGrantPermission", "/etcdserverpb.Auth/RoleRevokePermission",
    };

    private readonly ConcurrentDictionary<string, GrpcChannel> _channels = new(StringComparer.Ordinal);

    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        if (!ForwardedMethods.Contains(context.Method))
        {
            return await continuation(request, context).ConfigureAwait(false);
        }

        var route = await router.RouteAsync(context.RequestHeaders.Get(ForwardedHeader) is not null, m => m.GrpcAddress, context.CancellationToken).ConfigureAwait(false);
        if (route.IsLocal)
        {
            return await continuation(request, context).ConfigureAwait(false);
        }

        if (route.Kind != LeaderRouteKind.Forward)
        {
            throw new NotLeaderException(route.Leader);
        }

        var channel = ChannelTo(route.Address);
        var slash = context.Method.LastIndexOf('/');
        var method = new Method<TRequest, TResponse>(
            MethodType.Unary, context.Method[1..slash], context.Method[(slash + 1)..], ProtobufMarshaller<TRequest>.Instance, ProtobufMarshaller<TResponse>.Instance);
        return await channel.CreateCallInvoker().AsyncUnaryCall(method, null, Options(context), request).ConfigureAwait(false);
    }

    /// <summary>The (shared) channel to a member's gRPC address, for a service that forwards a stream
    /// itself (etcd's LeaseKeepAlive, <see cref="Etcd.LeaseKeepAliveUpstream"/>).</summary>
    public GrpcChannel ChannelTo(string address) => _channels.GetOrAdd(address, transport.CreateChannel);

    /// <summary>The options of a call forwarded for <paramref name="context"/> (its deadline, cancellation,
    /// forwarded metadata and the <see cref="ForwardedHeader"/> marker).</summary>
    public static CallOptions ForwardOptions(ServerCallContext context) => Options(context);

    public void Dispose()
    {
        foreach (var c in _channels.Values)
        {
            c.Dispose();
        }
    }

    private static CallOptions Options(ServerCallContext context)
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
            headers.Add(GrpcAuthInterceptor.TokenHeader, principal.ForwardToken);
        }

        headers.Add(ForwardedHeader, "1");
        return new CallOptions(headers, context.Deadline, context.CancellationToken);
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
