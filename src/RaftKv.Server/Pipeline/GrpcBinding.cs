using Grpc.AspNetCore.Server.Model;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace RaftKv.Server.Pipeline;

/// <summary>Service registration for <see cref="StrictServiceMethodProvider{TService}"/>.</summary>
internal static class GrpcBinding
{
    /// <summary>Replaces Grpc.AspNetCore's default service binder (call after <c>AddGrpc</c>).</summary>
    public static IServiceCollection AddStrictGrpcBinding(this IServiceCollection services)
    {
        services.RemoveAll(typeof(IServiceMethodProvider<>));
        services.AddSingleton(typeof(IServiceMethodProvider<>), typeof(StrictServiceMethodProvider<>));
        return services;
    }
}
