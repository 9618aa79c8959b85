using System.Collections.Concurrent;
using System.Text;
using Grpc.Core;
using Grpc.Core.Interceptors;
using RaftKv.Server.Observability;

namespace RaftKv.Server.Pipeline;

/// <summary>
/// gRPC interceptor, outermost on unary calls: times and counts each call (op = the method name in
/// snake_case, e.g. <c>add_member</c>; outcome ok or error) and maps any exception to its status
/// (<see cref="GrpcErrors"/>). Streaming calls (Watch) map their own errors.
/// </summary>
public sealed class GrpcOperationInterceptor : Interceptor
{
    public const string Api = "grpc";

    private static readonly ConcurrentDictionary<string, string> OpNames = new(StringComparer.Ordinal);

    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        var op = OpNames.GetOrAdd(context.Method, OpName);
        using var timer = OperationMetrics.Time(Api, op);
        try
        {
            var response = await continuation(request, context).ConfigureAwait(false);
            OperationMetrics.Count(Api, op, "ok");
            return response;
        }
        catch (Exception e)
        {
            OperationMetrics.Count(Api, op, "error");
            var mapped = GrpcErrors.Map(e);
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
