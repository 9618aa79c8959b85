using System.Runtime.CompilerServices;
using Grpc.Core;
using Grpc.Core.Interceptors;

namespace RaftKv.Server.Pipeline;

/// <summary>
/// The pipeline's gRPC interceptors, outermost first — <see cref="GrpcOperationInterceptor"/>,
/// <see cref="GrpcLearnerGate"/>, <see cref="GrpcAuthInterceptor"/>, <see cref="GrpcLeaderForwarder"/> —
/// registered with Grpc.AspNetCore as one. Each registered interceptor costs every call an async wrapper of
/// Grpc.AspNetCore's own (a state machine box, an activator lookup in the request's services and an await),
/// even when the interceptor only checks a flag; chained here, they call each other directly. The order and
/// what each does are unchanged (docs/architecture.md, "A gRPC call").
/// </summary>
/// <remarks>Unary calls — the hot path — reuse the composed continuation: Grpc.AspNetCore builds one
/// continuation per method at start-up, and the chain built over it is kept with it (a weak table, so nothing
/// outlives its method). Streaming calls compose per call.</remarks>
/// <remarks>Streaming calls (watches, lease keep-alives, a learner's tail, snapshots) also end when the server stops:
/// their context's token is linked to the host's <c>ApplicationStopping</c> (<see cref="StoppableCallContext"/>), and a
/// call that ends after the stop began ends with UNAVAILABLE "etcdserver: server stopped" (etcd's <c>ErrGRPCStopped</c>),
/// so the client reconnects — to another endpoint if it has one — and Kestrel's graceful stop no longer waits for
/// every open stream until the shutdown timeout.</remarks>
/// <remarks>Before the chain, etcd's require-leader (<see cref="RequireLeader"/>): a call with <c>hasleader: true</c> is
/// refused while the member knows no leader, and such a stream's context token also fires once the leader is lost
/// (ending it with "etcdserver: no leader").</remarks>
public sealed class GrpcInterceptorChain(GrpcOperationInterceptor operation, GrpcLearnerGate learnerGate, GrpcAuthInterceptor auth, GrpcLeaderForwarder forwarder, IHostApplicationLifetime lifetime, RequireLeader requireLeader)
    : Interceptor
{
    private readonly Interceptor[] _chain = [operation, learnerGate, auth, forwarder];
    private readonly CancellationToken _stopping = lifetime.ApplicationStopping;

    /// <summary>Method continuation → the chain over it (a <c>UnaryServerMethod</c> of the same types).</summary>
    private readonly ConditionalWeakTable<Delegate, Delegate> _unary = [];

    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        if (RequireLeader.Requested(context) && !requireLeader.HasLeader)
        {
            throw GrpcErrors.Etcd.NoLeader; // etcd's unary interceptor, before anything else
        }

        if (!_unary.TryGetValue(continuation, out var composed))
        {
            composed = _unary.GetValue(continuation, c => ComposeUnary((UnaryServerMethod<TRequest, TResponse>)c));
        }

        return ((UnaryServerMethod<TRequest, TResponse>)composed)(request, context);
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        var next = continuation;
        for (var i = _chain.Length - 1; i >= 0; i--)
        {
            var (interceptor, inner) = (_chain[i], next);
            next = (r, s, c) => interceptor.ServerStreamingServerHandler(r, s, c, inner);
        }

        using var call = new StoppableCallContext(context, _stopping, LeaderLostToken(context));
        await UntilStopAsync(call, next(request, responseStream, call)).ConfigureAwait(false);
    }

    public override async Task DuplexStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        var next = continuation;
        for (var i = _chain.Length - 1; i >= 0; i--)
        {
            var (interceptor, inner) = (_chain[i], next);
            next = (r, s, c) => interceptor.DuplexStreamingServerHandler(r, s, c, inner);
        }

        using var call = new StoppableCallContext(context, _stopping, LeaderLostToken(context));
        await UntilStopAsync(call, next(requestStream, responseStream, call)).ConfigureAwait(false);
    }

    /// <summary>For a stream that requires a leader (<see cref="RequireLeader"/>): refused now without one, else the token
    /// that ends it once the leader is lost; <c>default</c> for any other stream.</summary>
    private CancellationToken LeaderLostToken(ServerCallContext context)
    {
        if (!RequireLeader.Requested(context))
        {
            return default;
        }

        return requireLeader.HasLeader ? requireLeader.LostToken : throw GrpcErrors.Etcd.NoLeader;
    }

    /// <summary>Awaits a streaming handler; when the server's stop ended it (however the handler ended: a watch
    /// returns quietly on cancellation), the call's status is etcd's "server stopped"; when the loss of the leader ended
    /// a stream that requires one, etcd's "no leader" (its watch server's status then).</summary>
    private static async Task UntilStopAsync(StoppableCallContext call, Task handler)
    {
        try
        {
            await handler.ConfigureAwait(false);
        }
        catch (Exception) when (call.EndedByStop || call.EndedByLeaderLoss)
        {
            throw call.EndedByStop ? GrpcErrors.Etcd.Stopped : GrpcErrors.Etcd.NoLeader;
        }

        if (call.EndedByStop)
        {
            throw GrpcErrors.Etcd.Stopped;
        }

        if (call.EndedByLeaderLoss)
        {
            throw GrpcErrors.Etcd.NoLeader;
        }
    }

    public override Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        var next = continuation;
        for (var i = _chain.Length - 1; i >= 0; i--)
        {
            var (interceptor, inner) = (_chain[i], next);
            next = (r, c) => interceptor.ClientStreamingServerHandler(r, c, inner);
        }

        return next(requestStream, context);
    }

    private UnaryServerMethod<TRequest, TResponse> ComposeUnary<TRequest, TResponse>(UnaryServerMethod<TRequest, TResponse> continuation)
        where TRequest : class
        where TResponse : class
    {
        var next = continuation;
        for (var i = _chain.Length - 1; i >= 0; i--)
        {
            var (interceptor, inner) = (_chain[i], next);
            next = (r, c) => interceptor.UnaryServerHandler(r, c, inner);
        }

        return next;
    }
}
