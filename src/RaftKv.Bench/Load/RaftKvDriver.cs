using Google.Protobuf;
using Grpc.Net.Client;
using RaftKv.Client;
using RaftKv.Protocol.V1;

namespace RaftKv.Bench.Load;

/// <summary>raftkv.v1 over its own HTTP/2 connection to the leader (writes) — reads go to the same node.</summary>
public sealed class RaftKvDriver(string endpoint, ClientTls? tls) : IKvDriver
{
    private readonly GrpcChannel _channel = Open(endpoint, tls);
    private KV.KVClient Client => new(_channel);

    public async Task PutAsync(byte[] key, byte[] value)
        => await Client.PutAsync(new PutRequest { Key = UnsafeByteOperations.UnsafeWrap(key), Value = UnsafeByteOperations.UnsafeWrap(value) });

    public async Task GetAsync(byte[] key, bool serializable)
        => await Client.GetAsync(new GetRequest { Key = UnsafeByteOperations.UnsafeWrap(key), Consistency = serializable ? Consistency.Serializable : Consistency.Linearizable });

    public async Task RangeAsync(byte[] start, int limit)
        => await Client.RangeAsync(new RangeRequest { Start = UnsafeByteOperations.UnsafeWrap(start), Limit = (uint)limit });

    public void Dispose() => _channel.Dispose();

    /// <summary>The leader's gRPC endpoint, asked of any node.</summary>
    /// <summary>A channel of its own (one HTTP/2 connection per driver), over TLS when <paramref name="tls"/> is set.</summary>
    public static GrpcChannel Open(string endpoint, ClientTls? tls)
        => GrpcChannel.ForAddress((tls is null ? "http://" : "https://") + endpoint, new GrpcChannelOptions { MaxReceiveMessageSize = 64 << 20, HttpHandler = tls?.CreateHandler(), DisposeHttpClient = true });

    public static async Task<string> FindLeaderAsync(IReadOnlyList<string> endpoints, ClientTls? tls)
    {
        foreach (var e in endpoints)
        {
            try
            {
                using var ch = Open(e, tls);
                var s = await new Cluster.ClusterClient(ch).StatusAsync(new StatusRequest(), deadline: DateTime.UtcNow.AddSeconds(3));
                if (s.Leader.Length > 0)
                {
                    return s.Leader;
                }
            }
            catch (Grpc.Core.RpcException)
            {
            }
        }

        throw new InvalidOperationException("no RaftKv leader found at " + string.Join(",", endpoints));
    }
}
