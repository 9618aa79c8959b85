using Google.Protobuf;
using Google.Protobuf.Reflection;
using Grpc.Core;

namespace RaftKv.Server.Etcd.Gateway;

/// <summary>One JSON gateway route: an HTTP path (without its <c>/v3</c> or <c>/v3beta</c> prefix) and the etcd
/// gRPC method it calls, as a <see cref="Method{TRequest, TResponse}"/> over <see cref="IMessage"/> built from the
/// method's descriptor (so one generic handler serves every method; the messages are etcd's own types).</summary>
public sealed class GatewayRoute
{
    public GatewayRoute(string path, MethodDescriptor descriptor)
    {
        ArgumentNullException.ThrowIfNull(descriptor);
        Path = path;
        Descriptor = descriptor;
        var input = descriptor.InputType;
        var output = descriptor.OutputType;
        var type = (descriptor.IsClientStreaming, descriptor.IsServerStreaming) switch
        {
            (false, false) => MethodType.Unary,
            (false, true) => MethodType.ServerStreaming,
            (true, false) => MethodType.ClientStreaming,
            _ => MethodType.DuplexStreaming,
        };
        Method = new Method<IMessage, IMessage>(
            type,
            descriptor.Service.FullName,
            descriptor.Name,
            Marshallers.Create(static m => m.ToByteArray(), input.Parser.ParseFrom),
            Marshallers.Create(static m => m.ToByteArray(), output.Parser.ParseFrom));
    }

    /// <summary>The path after the version prefix, e.g. <c>/kv/range</c>.</summary>
    public string Path { get; }

    public MethodDescriptor Descriptor { get; }

    /// <summary>The gRPC method called over the loopback channel (<see cref="GatewayLoopback"/>).</summary>
    public Method<IMessage, IMessage> Method { get; }

    /// <summary>True for Watch, LeaseKeepAlive and Snapshot: the answer is a stream of <c>{"result": …}</c> lines.</summary>
    public bool StreamsResponses => Descriptor.IsServerStreaming;

    /// <summary>True for Watch and LeaseKeepAlive: the body's JSON values are the stream's requests, in order.</summary>
    public bool StreamsRequests => Descriptor.IsClientStreaming;
}
