using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using V3 = RaftKv.Protocol.Etcd;

namespace RaftKv.EndToEnd.Tests.Etcd.Differential;

/// <summary>One side of the differential test (real etcd or RaftKv): etcd's generated gRPC clients on one
/// channel, and the normal form of an answer that both sides must give identically.</summary>
internal sealed class DiffSide(string name, string endpoint) : IDisposable
{
    private static readonly Marshaller<byte[]> Raw = Marshallers.Create(b => b, b => b);

    private readonly GrpcChannel _channel = GrpcChannel.ForAddress("http://" + endpoint);

    public string Name => name;

    /// <summary>host:port of the server's client (gRPC) port, as etcdctl's --endpoints takes it.</summary>
    public string Endpoint => endpoint;

    public V3.KV.KVClient Kv => new(_channel);

    public V3.Lease.LeaseClient Lease => new(_channel);

    public V3.Watch.WatchClient Watch => new(_channel);

    public V3.Maintenance.MaintenanceClient Maintenance => new(_channel);

    public RaftKv.Protocol.Etcd.V3Lock.Lock.LockClient Lock => new(_channel);

    public RaftKv.Protocol.Etcd.V3Election.Election.ElectionClient Election => new(_channel);

    /// <summary>Sends <paramref name="bytes"/> as the request message of <paramref name="method"/> (malformed input).</summary>
    public async Task<string> RawAsync(string service, string method, byte[] bytes)
    {
        var m = new Method<byte[], byte[]>(MethodType.Unary, service, method, Raw, Raw);
        try
        {
            var answer = await _channel.CreateCallInvoker().AsyncUnaryCall(m, null, new CallOptions(deadline: DateTime.UtcNow.AddSeconds(20)), bytes);
            return "OK " + Convert.ToHexString(answer);
        }
        catch (RpcException e) when (e.Status.Detail.StartsWith(UnmarshalError, StringComparison.Ordinal))
        {
            return $"ERROR {e.StatusCode}: {UnmarshalError}…"; // the rest is the protobuf parser's own text (Go's vs .NET's)
        }
        catch (RpcException e)
        {
            return Error(e);
        }
    }

    private const string UnmarshalError = "grpc: error unmarshalling request: ";

    /// <summary>The normal form of a call's outcome: the response as JSON with every header's cluster_id,
    /// member_id and raft_term cleared (the revision stays: both sides start empty), or the error's code and text.</summary>
    public static async Task<string> OutcomeAsync<T>(Func<Task<T>> call, Func<T, T>? normalize = null)
        where T : IMessage<T>
    {
        try
        {
            var response = await call();
            response = normalize is null ? response : normalize(response);
            return JsonFormatter.Default.Format(ClearHeaders(response));
        }
        catch (RpcException e)
        {
            return Error(e);
        }
    }

    public static string Error(RpcException e) => $"ERROR {e.StatusCode}: {e.Status.Detail}";

    /// <summary>A copy of <paramref name="message"/> whose response headers (at any depth) keep only the revision.</summary>
    public static T ClearHeaders<T>(T message)
        where T : IMessage<T>
    {
        var copy = message.Clone();
        HeaderScrub.Clear(copy);
        return copy;
    }

    public void Dispose() => _channel.Dispose();
}
