using Grpc.Core;
using RaftKv.Replication.Api;
using V1 = RaftKv.Protocol.V1;
using V3 = RaftKv.Protocol.Etcd;

namespace RaftKv.Server.Pipeline;

/// <summary>
/// A linearizable read's barrier, run by the pipeline before the auth gate (<see cref="GrpcAuthInterceptor"/>,
/// <see cref="HttpAuthMiddleware"/>) instead of by the handler: etcd judges a linearizable read after its read
/// index, so the decision sees every auth change acknowledged before the read arrived — on a follower that has
/// not applied <c>auth enable</c> or a revoke yet, too (docs/architecture.md, "Authentication").
/// </summary>
/// <remarks>
/// It runs for every linearizable KV read, auth on or off, since the local "auth is off" may itself be stale. The
/// read costs no more than before: the request is marked (an <see cref="HttpContext"/> feature), and the handler,
/// asking <see cref="Consistency(HttpContext, ReadConsistency)"/>, then reads its local state without a second
/// barrier — the barrier began after the request arrived, which is all a linearizable read needs. Reads of other
/// kinds (watches at creation, serializable reads, election Leader) are judged on the local state, as etcd does.
/// </remarks>
public sealed class ReadFence(IKvNode node)
{
    /// <summary>True for a unary call whose handler would run the linearizable read barrier.</summary>
    public static bool IsLinearizableRead(object request) => request switch
    {
        V3.RangeRequest r => !r.Serializable,
        V1.GetRequest g => g.Consistency == V1.Consistency.Linearizable,
        V1.RangeRequest r => r.Consistency == V1.Consistency.Linearizable,
        _ => false,
    };

    /// <summary>True for an HTTP KV read (<c>GET</c>/<c>HEAD</c> of <c>/kv</c> or <c>/kv/{key}</c>) at the default
    /// linearizable consistency (a bad <c>consistency</c> value is left to the handler's 400).</summary>
    public static bool IsLinearizableRead(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var path = request.Path.Value ?? "/";
        return (HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method))
            && (path == "/kv" || path.StartsWith("/kv/", StringComparison.Ordinal))
            && request.Query["consistency"].ToString().ToLowerInvariant() is "" or "linearizable";
    }

    /// <summary>Runs the read barrier for an HTTP request and marks it passed. Throws what
    /// <see cref="IKvNode.ReadBarrierAsync"/> throws (503 once mapped).</summary>
    public async ValueTask PassAsync(HttpContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        await node.ReadBarrierAsync(cancellationToken).ConfigureAwait(false);
        context.Features.Set(Passed.Instance);
    }

    /// <summary>Runs the read barrier for a gRPC call and marks it passed (in its <see cref="ServerCallContext.UserState"/>).
    /// Throws what <see cref="IKvNode.ReadBarrierAsync"/> throws (UNAVAILABLE once mapped).</summary>
    public async ValueTask PassAsync(ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        await node.ReadBarrierAsync(context.CancellationToken).ConfigureAwait(false);
        context.UserState[Passed.Instance] = Passed.Instance;
    }

    /// <summary>The consistency an HTTP handler reads at: <see cref="ReadConsistency.Serializable"/> (local state, no
    /// second barrier) when the request asked for a linearizable read and has passed the fence; else what it asked for.</summary>
    public static ReadConsistency Consistency(HttpContext context, ReadConsistency requested)
    {
        ArgumentNullException.ThrowIfNull(context);
        return requested == ReadConsistency.Linearizable && context.Features.Get<Passed>() is not null ? ReadConsistency.Serializable : requested;
    }

    /// <summary><see cref="Consistency(HttpContext, ReadConsistency)"/> for a gRPC call.</summary>
    public static ReadConsistency Consistency(ServerCallContext context, ReadConsistency requested)
    {
        ArgumentNullException.ThrowIfNull(context);
        return requested == ReadConsistency.Linearizable && context.UserState.ContainsKey(Passed.Instance) ? ReadConsistency.Serializable : requested;
    }

    /// <summary>The mark of a request that passed the fence.</summary>
    private sealed class Passed
    {
        public static readonly Passed Instance = new();
    }
}
