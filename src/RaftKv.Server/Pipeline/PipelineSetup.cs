using Microsoft.Extensions.DependencyInjection.Extensions;
using RaftKv.Server.Configuration;
using RaftKv.Server.Security;

namespace RaftKv.Server.Pipeline;

/// <summary>Registers the pipeline's services: the shared leader router, both forwarders and the
/// gRPC interceptors (outermost first: operation metrics + error mapping, then leader forwarding), and
/// the gRPC binder that refuses malformed request messages with INVALID_ARGUMENT.</summary>
public static class PipelineSetup
{
    public static IServiceCollection AddRaftKvPipeline(this IServiceCollection services, ServerConfig config)
    {
        services.AddSingleton<LeaderRouter>();
        services.TryAddSingleton(LeaderTransport.Plaintext); // Program registers ServerTls.LeaderTransport (https when TLS is on)
        services.AddHttpClient(HttpLeaderForwarder.ClientName, c => c.Timeout = TimeSpan.FromSeconds(10))
            .ConfigurePrimaryHttpMessageHandler(sp => sp.GetRequiredService<LeaderTransport>().CreateHandler());

        // Singletons: the gRPC interceptor activator uses a registered instance (the forwarder keeps its channels).
        services.AddSingleton<GrpcOperationInterceptor>();
        services.AddSingleton<GrpcLeaderForwarder>();
        services.AddGrpc(o =>
        {
            o.MaxReceiveMessageSize = (config.MaxValueBytes * 2) + (1 << 20);
            o.Interceptors.Add<GrpcOperationInterceptor>();
            o.Interceptors.Add<GrpcLeaderForwarder>();
        });
        services.AddStrictGrpcBinding();
        return services;
    }
}
