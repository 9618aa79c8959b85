using Microsoft.Extensions.DependencyInjection.Extensions;
using RaftKv.Server.Configuration;
using RaftKv.Server.Security;

namespace RaftKv.Server.Pipeline;

/// <summary>Registers the pipeline's services: the shared leader router, both forwarders and the
/// gRPC interceptors (outermost first: operation metrics + error mapping, a learner's refusals, authentication and authorization,
/// then leader forwarding), the auth services (Security/Auth), and
/// the gRPC binder that refuses malformed request messages (INVALID_ARGUMENT; etcd's INTERNAL text on etcd's services).</summary>
public static class PipelineSetup
{
    public static IServiceCollection AddRaftKvPipeline(this IServiceCollection services, ServerConfig config)
    {
        services.AddSingleton(sp => LeaderRouter.For(sp.GetRequiredService<RaftKv.Replication.Api.IKvNode>(), config.ToNodeOptions()));
        services.TryAddSingleton(LeaderTransport.Plaintext); // Program registers ServerTls.LeaderTransport (https when TLS is on)

        // No client timeout: HttpLeaderForwarder bounds each hop itself (LeaderRouter.ForwardTimeout, 504 leader_timeout).
        services.AddHttpClient(HttpLeaderForwarder.ClientName, c => c.Timeout = Timeout.InfiniteTimeSpan)
            .ConfigurePrimaryHttpMessageHandler(sp => sp.GetRequiredService<LeaderTransport>().CreateHandler());

        // Singletons: the gRPC interceptor activator uses a registered instance (the forwarder keeps its channels).
        services.AddSingleton<GrpcOperationInterceptor>();
        services.AddSingleton<GrpcLeaderForwarder>();
        services.AddSingleton<GrpcAuthInterceptor>();
        services.AddSingleton<ReadFence>();
        services.AddSingleton<GrpcLearnerGate>();
        services.AddSingleton<GrpcInterceptorChain>();
        services.AddSingleton<RequireLeader>();
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(config.Auth);
        services.AddSingleton<Security.Auth.PasswordHasher>(_ => new Security.Auth.PasswordHasher());
        services.AddSingleton<Security.Auth.AuthTokens>();
        services.AddSingleton(sp =>
        {
            var node = sp.GetRequiredService<RaftKv.Replication.KvNode>();
            var ttl = sp.GetRequiredService<Security.Auth.AuthOptions>().TokenTtl;
            var simple = new Security.Auth.SimpleTokens(sp.GetRequiredService<TimeProvider>(), () => node.Auth.Enabled);
            node.SimpleTokenAssigned += grant => simple.Hold(grant.Digest, grant.User, grant.Revision, ttl); // every member's apply
            return simple;
        });
        services.AddSingleton<Security.Auth.AuthRateLimiter>();
        services.AddSingleton<Security.Auth.AuthGate>();
        services.AddGrpc(o =>
        {
            o.MaxReceiveMessageSize = (config.MaxValueBytes * 2) + (1 << 20);
            // One registration for the four (GrpcInterceptorChain): operation metrics and error mapping, a learner's
            // refusals (first after the metrics, as in etcd), authentication and authorization, leader forwarding.
            o.Interceptors.Add<GrpcInterceptorChain>();
        });
        services.AddStrictGrpcBinding();

        // Grpc.AspNetCore logs every non-OK status at Information ("Error status code 'FailedPrecondition' …
        // raised"), which makes a follower's routine not-the-leader refusals look like errors;
        // GrpcOperationInterceptor logs failed calls itself, at a level that fits each status.
        services.Configure<LoggerFilterOptions>(o => o.AddFilter("Grpc.AspNetCore.Server.ServerCallHandler", LogLevel.Warning));
        return services;
    }
}
