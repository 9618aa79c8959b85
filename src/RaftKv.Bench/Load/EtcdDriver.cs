using Google.Protobuf;
using Grpc.Net.Client;
using RaftKv.Bench.Etcd;

namespace RaftKv.Bench.Load;

/// <summary>etcd's v3 gRPC KV API over its own HTTP/2 connection.</summary>
public sealed class EtcdDriver(string endpoint, RaftKv.Client.ClientTls? tls) : IKvDriver
{
    private readonly GrpcChannel _channel = RaftKvDriver.Open(endpoint, tls);
    private KV.KVClient Client => new(_channel);

    public async Task PutAsync(byte[] key, byte[] value)
        => await Client.PutAsync(new PutRequest { Key = UnsafeByteOperations.UnsafeWrap(key), Value = UnsafeByteOperations.UnsafeWrap(value) });

    public async Task GetAsync(byte[] key, bool serializable)
        => await Client.RangeAsync(new RangeRequest { Key = UnsafeByteOperations.UnsafeWrap(key), Serializable = serializable });

    public async Task RangeAsync(byte[] start, int limit)
        => await Client.RangeAsync(new RangeRequest { Key = UnsafeByteOperations.UnsafeWrap(start), RangeEnd = ByteString.CopyFrom([0]), Limit = limit });

    public void Dispose() => _channel.Dispose();
}
