using Google.Protobuf;
using Grpc.Net.Client;
using RaftKv.Client;
using RaftKv.Protocol.V1;

namespace RaftKv.Bench.Load;

/// <summary>raftkv.v1 over its own HTTP/2 connection to the leader (writes) — reads go to the same node; with a
/// token per request when <paramref name="credentials"/> is set.</summary>
public sealed class RaftKvDriver(string endpoint, ClientTls? tls, BenchCredentials? credentials = null) : IKvDriver
{
    private readonly GrpcChannel _channel = Open(endpoint, tls);
    private KV.KVClient Client => new(_channel);

    public async Task PutAsync(byte[] key, byte[] value)
    {
        var request = new PutRequest { Key = UnsafeByteOperations.UnsafeWrap(key), Value = UnsafeByteOperations.UnsafeWrap(value) };
        _ = credentials is null ? await Client.PutAsync(request) : await credentials.CallAsync(h => Client.PutAsync(request, h));
    }

    public async Task PutBatchAsync(IReadOnlyList<byte[]> keys, IReadOnlyList<ReadOnlyMemory<byte>> values)
    {
        var request = new TxnRequest();
        for (var i = 0; i < keys.Count; i++)
        {
            request.Success.Add(new TxnOp { Put = new PutRequest { Key = UnsafeByteOperations.UnsafeWrap(keys[i]), Value = UnsafeByteOperations.UnsafeWrap(values[i]) } });
        }

        _ = credentials is null ? await Client.TxnAsync(request) : await credentials.CallAsync(h => Client.TxnAsync(request, h));
    }

    public async Task<ReadTier> GetAsync(byte[] key, bool serializable)
    {
        var request = new GetRequest { Key = UnsafeByteOperations.UnsafeWrap(key), Consistency = serializable ? Consistency.Serializable : Consistency.Linearizable };
        var response = credentials is null ? await Client.GetAsync(request) : await credentials.CallAsync(h => Client.GetAsync(request, h));
        return !response.Found ? ReadTier.NotFound : response.Kv.Tier switch
        {
            Tier.Memory => ReadTier.Memory,
            Tier.Disk => ReadTier.Disk,
            Tier.Object => ReadTier.Object,
            _ => ReadTier.Unknown,
        };
    }

    public async Task RangeAsync(byte[] start, int limit)
    {
        var request = new RangeRequest { Start = UnsafeByteOperations.UnsafeWrap(start), Limit = (uint)limit };
        _ = credentials is null ? await Client.RangeAsync(request) : await credentials.CallAsync(h => Client.RangeAsync(request, h));
    }

    public void Dispose() => _channel.Dispose();

    /// <summary>A channel of its own (one HTTP/2 connection per driver), over TLS when <paramref name="tls"/> is set.</summary>
    public static GrpcChannel Open(string endpoint, ClientTls? tls)
        => GrpcChannel.ForAddress((tls is null ? "http://" : "https://") + endpoint, new GrpcChannelOptions { MaxReceiveMessageSize = 64 << 20, HttpHandler = tls?.CreateHandler(), DisposeHttpClient = true });

    /// <summary>The leader's gRPC endpoint, asked of any node (as <paramref name="user"/> when auth is on).</summary>
    public static async Task<string> FindLeaderAsync(IReadOnlyList<string> endpoints, ClientTls? tls, (string Name, string Password)? user = null)
    {
        foreach (var e in endpoints)
        {
            try
            {
                using var ch = Open(e, tls);
                using var credentials = user is { } u ? new BenchCredentials(e, tls, u.Name, u.Password) : null; // Status needs a user once auth is on
                var headers = credentials is null ? null : await credentials.RefreshAsync(null);
                var s = await new Cluster.ClusterClient(ch).StatusAsync(new StatusRequest(), headers, deadline: DateTime.UtcNow.AddSeconds(3));
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
