using Grpc.Core;
using Prometheus;
using RaftKv.Replication.Api;
using RaftKv.Storage;

namespace RaftKv.Server.Grpc;

/// <summary>Maps domain exceptions to gRPC statuses (see proto/raftkv/v1/kv.proto).</summary>
public static class GrpcErrors
{
    public const string LeaderTrailer = "raftkv-leader";

    public static async Task<T> RunAsync<T>(string op, Func<Task<T>> call)
    {
        using var timer = Metrics.Latency.WithLabels("grpc", op).NewTimer();
        try
        {
            var result = await call().ConfigureAwait(false);
            Metrics.Operations.WithLabels("grpc", op, "ok").Inc();
            return result;
        }
        catch (RpcException)
        {
            Metrics.Operations.WithLabels("grpc", op, "error").Inc();
            throw;
        }
        catch (Exception e)
        {
            Metrics.Operations.WithLabels("grpc", op, "error").Inc();
            throw Map(e);
        }
    }

    public static RpcException Map(Exception e) => e switch
    {
        NotLeaderException nl => new RpcException(
            new Status(StatusCode.FailedPrecondition, e.Message),
            nl.Leader is { GrpcAddress.Length: > 0 } l ? new Metadata { { LeaderTrailer, l.GrpcAddress } } : []),
        UnavailableException { OutcomeUnknown: true } => new RpcException(new Status(StatusCode.DeadlineExceeded, e.Message)),
        UnavailableException or RemoteTierUnavailableException => new RpcException(new Status(StatusCode.Unavailable, e.Message)),
        ArgumentException or FormatException => new RpcException(new Status(StatusCode.InvalidArgument, e.Message)),
        InvalidOperationException when e.Message.Contains("retained history", StringComparison.Ordinal) => new RpcException(new Status(StatusCode.OutOfRange, e.Message)),
        OperationCanceledException => new RpcException(new Status(StatusCode.Cancelled, "cancelled")),
        _ => new RpcException(new Status(StatusCode.Internal, e.GetType().Name + ": " + e.Message)),
    };
}
