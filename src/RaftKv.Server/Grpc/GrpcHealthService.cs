using Grpc.Core;
using RaftKv.Protocol.Health;

namespace RaftKv.Server.Grpc;

/// <summary>
/// gRPC's standard health service (<c>grpc.health.v1.Health</c>) as etcd 3.4 serves it on its client port: the
/// empty service name (the whole server) is SERVING while the process serves gRPC; any other name is unknown
/// (<c>Check</c>: NOT_FOUND "unknown service", as grpc-go's health server; <c>Watch</c>: SERVICE_UNKNOWN). Like
/// etcd's, it says the process is up, not that the cluster has a leader (<c>/health</c> on the HTTP port and
/// etcd's Maintenance.Status say that). Open without authentication, like etcd's.
/// </summary>
public sealed class GrpcHealthService : Health.HealthBase
{
    /// <summary>The service name that stands for the whole server.</summary>
    public const string Server = "";

    public override Task<HealthCheckResponse> Check(HealthCheckRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Service != Server)
        {
            throw new RpcException(new Status(StatusCode.NotFound, "unknown service"));
        }

        return Task.FromResult(new HealthCheckResponse { Status = HealthCheckResponse.Types.ServingStatus.Serving });
    }

    /// <summary>Sends the status once (it does not change while the process serves), then holds the stream open
    /// until the client leaves or the server stops.</summary>
    public override async Task Watch(HealthCheckRequest request, IServerStreamWriter<HealthCheckResponse> responseStream, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(responseStream);
        ArgumentNullException.ThrowIfNull(context);
        var status = request.Service == Server ? HealthCheckResponse.Types.ServingStatus.Serving : HealthCheckResponse.Types.ServingStatus.ServiceUnknown;
        await responseStream.WriteAsync(new HealthCheckResponse { Status = status }).ConfigureAwait(false);
        try
        {
            await Task.Delay(Timeout.Infinite, context.CancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (context.CancellationToken.IsCancellationRequested)
        {
        }
    }
}
