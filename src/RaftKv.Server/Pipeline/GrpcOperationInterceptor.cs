using System.Collections.Concurrent;
using System.Text;
using Grpc.Core;
using Grpc.Core.Interceptors;
using RaftKv.Server.Observability;

namespace RaftKv.Server.Pipeline;

/// <summary>
/// gRPC interceptor, outermost on every call: times and counts each unary call (op = the method name in
/// snake_case, e.g. <c>add_member</c>; <c>api</c> = grpc, or etcd for the etcd v3 services; outcome ok
/// or error), counts each streaming call's outcome (a stream's duration says nothing, so it is not timed),
/// and maps any exception a call ends with — unary, server-streaming, client-streaming or duplex — to its
/// status (<see cref="GrpcErrors"/>, etcd's table for etcd's services): the one error-mapping home of the
/// gRPC front door. Errors a stream answers inside the stream (etcd Watch's canceled responses) are the
/// stream's own. It also records go-grpc-prometheus' <c>grpc_server_*</c> series etcd exports
/// (<see cref="GrpcServerMetrics"/>).
/// </summary>
/// <remarks>Logging: this interceptor, not Grpc.AspNetCore (whose per-call "Error status code … raised" line is
/// filtered to warnings, <see cref="PipelineSetup"/>), logs a failed call once, at a level that says what it
/// is: a refusal the client is expected to follow (FAILED_PRECONDITION not the leader, any bad-input or
/// auth status) at Debug; UNAVAILABLE / DEADLINE_EXCEEDED (no leader, no quorum, outcome unknown; routine
/// during an election) at Information; INTERNAL / UNKNOWN / DATA_LOSS (a bug or an I/O failure) at Error
/// with the exception.</remarks>
public sealed partial class GrpcOperationInterceptor(ILogger<GrpcOperationInterceptor> logger) : Interceptor
{
    public const string Api = "grpc";

    /// <summary>The <c>api</c> label of the etcd v3 services (package etcdserverpb).</summary>
    public const string EtcdApi = "etcd";

    private static readonly ConcurrentDictionary<string, string> OpNames = new(StringComparer.Ordinal);

    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        var (api, op) = Labels(context);
        var started = GrpcServerMetrics.Started(context.Method, GrpcServerMetrics.Unary);
        using var timer = OperationMetrics.Time(api, op);
        try
        {
            var response = await continuation(request, context).ConfigureAwait(false);
            OperationMetrics.Count(api, op, "ok");
            GrpcServerMetrics.Handled(context.Method, GrpcServerMetrics.Unary, StatusCode.OK, started);
            return response;
        }
        catch (Exception e)
        {
            throw Failed(e, context, api, op, GrpcServerMetrics.Unary, started);
        }
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        var (api, op) = Labels(context);
        var started = GrpcServerMetrics.Started(context.Method, GrpcServerMetrics.ServerStream);
        try
        {
            await continuation(request, responseStream, context).ConfigureAwait(false);
            OperationMetrics.Count(api, op, "ok");
            GrpcServerMetrics.Handled(context.Method, GrpcServerMetrics.ServerStream, StatusCode.OK, started);
        }
        catch (Exception e)
        {
            throw Failed(e, context, api, op, GrpcServerMetrics.ServerStream, started);
        }
    }

    public override async Task DuplexStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        var (api, op) = Labels(context);
        var started = GrpcServerMetrics.Started(context.Method, GrpcServerMetrics.BidiStream);
        try
        {
            await continuation(requestStream, responseStream, context).ConfigureAwait(false);
            OperationMetrics.Count(api, op, "ok");
            GrpcServerMetrics.Handled(context.Method, GrpcServerMetrics.BidiStream, StatusCode.OK, started);
        }
        catch (Exception e)
        {
            throw Failed(e, context, api, op, GrpcServerMetrics.BidiStream, started);
        }
    }

    public override async Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        var (api, op) = Labels(context);
        var started = GrpcServerMetrics.Started(context.Method, GrpcServerMetrics.ClientStream);
        try
        {
            var response = await continuation(requestStream, context).ConfigureAwait(false);
            OperationMetrics.Count(api, op, "ok");
            GrpcServerMetrics.Handled(context.Method, GrpcServerMetrics.ClientStream, StatusCode.OK, started);
            return response;
        }
        catch (Exception e)
        {
            throw Failed(e, context, api, op, GrpcServerMetrics.ClientStream, started);
        }
    }

    private static (string Api, string Op) Labels(ServerCallContext context)
        => (GrpcErrors.IsEtcdMethod(context.Method) ? EtcdApi : Api, OpNames.GetOrAdd(context.Method, OpName));

    /// <summary>Counts and logs a failed call; the exception to end it with (its status, mapped once here).</summary>
    private RpcException Failed(Exception e, ServerCallContext context, string api, string op, string grpcType, long started)
    {
        OperationMetrics.Count(api, op, "error");
        if (context.CancellationToken.IsCancellationRequested && e is IOException or ObjectDisposedException or InvalidOperationException)
        {
            // The client cancelled or reset the call (etcdctl's `lease keep-alive --once`, a closed watch): reading or
            // writing its stream failed because of that, which is a cancellation, not a server error.
            e = new OperationCanceledException("the client cancelled the call", e, context.CancellationToken);
        }

        var mapped = GrpcErrors.Map(e, context.Method, out var classified);
        GrpcServerMetrics.Handled(context.Method, grpcType, mapped.StatusCode, started);
        Log(context.Method, mapped, classified, e);
        return mapped;
    }

    private void Log(string method, RpcException mapped, StatusCode classified, Exception e)
    {
        switch (classified)
        {
            case StatusCode.Internal or StatusCode.Unknown or StatusCode.DataLoss:
                LogFailure(logger, e, method, mapped.StatusCode, mapped.Status.Detail);
                break;
            case StatusCode.Unavailable or StatusCode.DeadlineExceeded:
                LogUnavailable(logger, method, mapped.StatusCode, mapped.Status.Detail);
                break;
            default:
                LogRefusal(logger, method, mapped.StatusCode, mapped.Status.Detail);
                break;
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "{Method} failed with {Code}: {Detail}")]
    private static partial void LogFailure(ILogger logger, Exception e, string method, StatusCode code, string detail);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Method} answered {Code}: {Detail}")]
    private static partial void LogUnavailable(ILogger logger, string method, StatusCode code, string detail);

    [LoggerMessage(Level = LogLevel.Debug, Message = "{Method} answered {Code}: {Detail}")]
    private static partial void LogRefusal(ILogger logger, string method, StatusCode code, string detail);

    /// <summary>"/raftkv.v1.Cluster/AddMember" → "add_member".</summary>
    internal static string OpName(string fullMethod)
    {
        var name = fullMethod[(fullMethod.LastIndexOf('/') + 1)..];
        var sb = new StringBuilder(name.Length + 4);
        for (var i = 0; i < name.Length; i++)
        {
            if (char.IsUpper(name[i]) && i > 0)
            {
                sb.Append('_');
            }

            sb.Append(char.ToLowerInvariant(name[i]));
        }

        return sb.ToString();
    }
}
