using System.Reflection;
using Google.Protobuf;
using Grpc.AspNetCore.Server.Model;
using Grpc.Core;

namespace RaftKv.Server.Pipeline;

/// <summary>
/// Binds every gRPC service the way Grpc.AspNetCore's own binder does (the generated
/// <c>BindService</c> method named by <see cref="BindServiceMethodAttribute"/>), except that each
/// request marshaller turns a malformed protobuf message into <c>INVALID_ARGUMENT</c> (native services) or
/// etcd's <c>INTERNAL</c> "grpc: error unmarshalling request: …" (etcd's services, as etcd's grpc-go server answers).
/// </summary>
/// <remarks>
/// Grpc.AspNetCore deserializes a request before any interceptor runs and maps a parser exception
/// to <c>UNKNOWN</c> ("Exception was thrown by handler") with an error in the log; a client that
/// sends bad bytes must get a clear refusal instead. It is registered in place of the default
/// provider (<see cref="GrpcBinding.AddStrictGrpcBinding"/>), so it covers the native API and every
/// service added later alike.
/// </remarks>
internal sealed class StrictServiceMethodProvider<TService> : IServiceMethodProvider<TService>
    where TService : class
{
    public void OnServiceMethodDiscovery(ServiceMethodProviderContext<TService> context)
    {
        if (typeof(TService).GetCustomAttribute<BindServiceMethodAttribute>(inherit: true) is not { } bind)
        {
            return;
        }

        var bindMethod = bind.BindType
            .GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static)
            .Single(m => m.Name == bind.BindMethodName && m.GetParameters() is [{ ParameterType: var p0 }, _] && p0 == typeof(ServiceBinderBase));
        bindMethod.Invoke(null, [new Binder(context), null]);
    }

    private static Method<TRequest, TResponse> Strict<TRequest, TResponse>(Method<TRequest, TResponse> method)
        where TRequest : class
        where TResponse : class
    {
        var inner = method.RequestMarshaller;
        var etcd = GrpcErrors.IsEtcdMethod(method.FullName);
        var request = new Marshaller<TRequest>(inner.ContextualSerializer, ctx =>
        {
            try
            {
                return inner.ContextualDeserializer(ctx);
            }
            catch (InvalidProtocolBufferException e)
            {
                // etcd (grpc-go) answers INTERNAL "grpc: error unmarshalling request: <the Go protobuf error>"; the text after
                // the prefix is the parser's own and cannot match etcd's (docs/api.md, "Differences from etcd").
                throw etcd ? new RpcException(new Status(StatusCode.Internal, "grpc: error unmarshalling request: " + e.Message))
                    : new RpcException(new Status(StatusCode.InvalidArgument, "malformed request message: " + e.Message));
            }
        });
        return new Method<TRequest, TResponse>(method.Type, method.ServiceName, method.Name, request, method.ResponseMarshaller);
    }

    private sealed class Binder(ServiceMethodProviderContext<TService> context) : ServiceBinderBase
    {
        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, UnaryServerMethod<TRequest, TResponse>? handler)
            => context.AddUnaryMethod(Strict(method), Metadata(method.Name), Invoker<UnaryServerMethod<TService, TRequest, TResponse>>(method.Name));

        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, ServerStreamingServerMethod<TRequest, TResponse>? handler)
            => context.AddServerStreamingMethod(Strict(method), Metadata(method.Name), Invoker<ServerStreamingServerMethod<TService, TRequest, TResponse>>(method.Name));

        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, ClientStreamingServerMethod<TRequest, TResponse>? handler)
            => context.AddClientStreamingMethod(Strict(method), Metadata(method.Name), Invoker<ClientStreamingServerMethod<TService, TRequest, TResponse>>(method.Name));

        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, DuplexStreamingServerMethod<TRequest, TResponse>? handler)
            => context.AddDuplexStreamingMethod(Strict(method), Metadata(method.Name), Invoker<DuplexStreamingServerMethod<TService, TRequest, TResponse>>(method.Name));

        private static MethodInfo Handler(string name)
            => typeof(TService).GetMethod(name, BindingFlags.Public | BindingFlags.Instance)
                ?? throw new InvalidOperationException($"{typeof(TService).Name} has no handler for gRPC method {name}");

        private static TDelegate Invoker<TDelegate>(string name)
            where TDelegate : Delegate
            => Handler(name).CreateDelegate<TDelegate>();

        private static List<object> Metadata(string name)
            => [.. typeof(TService).GetCustomAttributes(inherit: true), .. Handler(name).GetCustomAttributes(inherit: true)];
    }
}
