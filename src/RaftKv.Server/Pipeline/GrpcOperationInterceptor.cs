using System.Collections.Concurrent;
using System.Text;
using Grpc.Core;
using Grpc.Core.Interceptors;
using RaftKv.Server.Observability;

namespace RaftKv.Server.Pipeline;

/// <summary>
/// gRPC interceptor, outermost on unary calls: times and counts each call (op = the method name in
/// snake_case, e.g. <c>add_member</c>; <c>api</c> = grpc, or etcd for the etcd v3 services; outcome ok
/// or error) and maps any exception to its status (<see cref="GrpcErrors"/>, etcd's table for etcd's
/// services). Streaming calls (Watch) map their own errors.
/// </summary>
public sealed class GrpcOperationInterceptor : Interceptor
{
    public const string Api = "grpc";

    /// <summary>The <c>api</c> label of the etcd v3 services (package etcdserverpb).</summary>
    public const string EtcdApi = "etcd";

    private static readonly ConcurrentDictionary<string, string> OpNames = new(StringComparer.Ordinal);

    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        var op = OpNames.GetOrAdd(context.Method, OpName);
        var api = GrpcErrors.IsEtcdMethod(context.Method) ? EtcdApi : Api;
        using var timer = OperationMetrics.Time(api, op);
        try
        {
            var response = await continuation(request, context).ConfigureAwait(false);
            OperationMetrics.Count(api, op, "ok");
            return response;
        }
        catch (Exception e)
        {
            OperationMetrics.Count(api, op, "error");
            var mapped = GrpcErrors.Map(e, context.Method);
            if (ReferenceEquals(mapped, e))
            {
                throw;
            }

            throw mapped;
        }
    }

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
