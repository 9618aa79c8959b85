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
public sealed class GrpcInterceptorChain(GrpcOperationInterceptor operation, GrpcLearnerGate learnerGate, GrpcAuthInterceptor auth, GrpcLeaderForwarder forwarder)
    : Interceptor
{
    private readonly Interceptor[] _chain = [operation, learnerGate, auth, forwarder];

    /// <summary>Method continuation → the chain over it (a <c>UnaryServerMethod</c> of the same types).</summary>
    private readonly ConditionalWeakTable<Delegate, Delegate> _unary = [];

    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        if (!_unary.TryGetValue(continuation, out var composed))
        {
            composed = _unary.GetValue(continuation, c => ComposeUnary((UnaryServerMethod<TRequest, TResponse>)c));
        }

        return ((UnaryServerMethod<TRequest, TResponse>)composed)(request, context);
    }

    public override Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        var next = continuation;
        for (var i = _chain.Length - 1; i >= 0; i--)
        {
            var (interceptor, inner) = (_chain[i], next);
            next = (r, s, c) => interceptor.ServerStreamingServerHandler(r, s, c, inner);
        }

        return next(request, responseStream, context);
    }

    public override Task DuplexStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        var next = continuation;
        for (var i = _chain.Length - 1; i >= 0; i--)
        {
            var (interceptor, inner) = (_chain[i], next);
            next = (r, s, c) => interceptor.DuplexStreamingServerHandler(r, s, c, inner);
        }

        return next(requestStream, responseStream, context);
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
