namespace RaftKv.Server.Etcd;

/// <summary>Registers etcd's v3 gRPC services (packages etcdserverpb, v3lockpb and v3electionpb) next to raftkv.v1 on the gRPC
/// port (and on ETCD_PORT when set); they share the pipeline: strict binding, the operation
/// interceptor (api="etcd", etcd's error table) and leader forwarding. The JSON gateway (Gateway/EtcdGateway) serves the same services as JSON on the HTTP port.</summary>
public static class EtcdSetup
{
    public static IServiceCollection AddEtcdApi(this IServiceCollection services)
    {
        services.AddSingleton<EtcdIdentity>();
        services.AddSingleton<Gateway.GatewayLoopback>();
        services.AddSingleton<Gateway.EtcdGateway>();
        services.AddSingleton(sp => new Gateway.GatewayCors(sp.GetRequiredService<Configuration.ServerConfig>().CorsOrigins));
        services.AddSingleton(sp => new Concurrency.ConcurrencyKv(sp.GetRequiredService<Replication.Api.IKvNode>())
        {
            ReadRetryBound = sp.GetRequiredService<Pipeline.LeaderRouter>().ForwardTimeout,
            Stopping = sp.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping,
        });
        services.AddSingleton<Concurrency.EtcdMutex>();
        services.AddSingleton<Concurrency.EtcdElection>();
        return services;
    }

    public static WebApplication MapEtcdApi(this WebApplication app)
    {
        app.MapGrpcService<EtcdKvService>();
        app.MapGrpcService<EtcdWatchService>();
        app.MapGrpcService<EtcdClusterService>();
        app.MapGrpcService<EtcdMaintenanceService>();
        app.MapGrpcService<EtcdLeaseService>();
        app.MapGrpcService<EtcdAuthService>();
        Gateway.EtcdGateway.Map(app); // the JSON gateway: POST /v3/… and /v3beta/… on the HTTP port
        app.MapGrpcService<EtcdLockService>();
        app.MapGrpcService<EtcdElectionService>();
        return app;
    }
}
