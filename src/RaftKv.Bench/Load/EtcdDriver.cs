using Google.Protobuf;
using Grpc.Net.Client;
using RaftKv.Protocol.Etcd;

namespace RaftKv.Bench.Load;

/// <summary>etcd's v3 gRPC KV API over its own HTTP/2 connection (with a token per request when
/// <paramref name="credentials"/> is set).</summary>
public sealed class EtcdDriver(string endpoint, RaftKv.Client.ClientTls? tls, BenchCredentials? credentials = null) : IKvDriver
{
    private readonly GrpcChannel _channel = RaftKvDriver.Open(endpoint, tls);
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
            request.Success.Add(new RequestOp { RequestPut = new PutRequest { Key = UnsafeByteOperations.UnsafeWrap(keys[i]), Value = UnsafeByteOperations.UnsafeWrap(values[i]) } });
        }

        _ = credentials is null ? await Client.TxnAsync(request) : await credentials.CallAsync(h => Client.TxnAsync(request, h));
    }

    public async Task<ReadTier> GetAsync(byte[] key, bool serializable)
        => (await Range(new RangeRequest { Key = UnsafeByteOperations.UnsafeWrap(key), Serializable = serializable })).Kvs.Count == 0 ? ReadTier.NotFound : ReadTier.Unknown;

    public async Task RangeAsync(byte[] start, int limit)
        => await Range(new RangeRequest { Key = UnsafeByteOperations.UnsafeWrap(start), RangeEnd = ByteString.CopyFrom([0]), Limit = limit });

    private async Task<RangeResponse> Range(RangeRequest request)
        => credentials is null ? await Client.RangeAsync(request) : await credentials.CallAsync(h => Client.RangeAsync(request, h));

    public void Dispose() => _channel.Dispose();
}
