namespace RaftKv.Server.Etcd;

/// <summary>Registers etcd's v3 gRPC services (package etcdserverpb) next to raftkv.v1 on the gRPC
/// port (and on ETCD_PORT when set); they share the pipeline: strict binding, the operation
/// interceptor (api="etcd", etcd's error table) and leader forwarding.</summary>
public static class EtcdSetup
{
    public static IServiceCollection AddEtcdApi(this IServiceCollection services)
    {
        services.AddSingleton<EtcdIdentity>();
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
        return app;
    }
}
