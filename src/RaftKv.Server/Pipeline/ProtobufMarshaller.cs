using Google.Protobuf;
using Grpc.Core;

namespace RaftKv.Server.Pipeline;

/// <summary>A protobuf marshaller for a message type known only as a generic parameter (the
/// forwarding interceptor's); uses the generated static <c>Parser</c>.</summary>
internal static class ProtobufMarshaller<T>
{
    public static readonly Marshaller<T> Instance = Create();

    private static Marshaller<T> Create()
    {
        var parser = (MessageParser)(typeof(T).GetProperty("Parser", System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Static)?.GetValue(null)
            ?? throw new InvalidOperationException($"{typeof(T)} is not a generated protobuf message"));
        return Marshallers.Create(m => ((IMessage)m!).ToByteArray(), bytes => (T)parser.ParseFrom(bytes));
    }
}
