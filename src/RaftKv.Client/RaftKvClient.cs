using System.Collections.Concurrent;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using RaftKv.Protocol.V1;

namespace RaftKv.Client;

/// <summary>
/// .NET client for a RaftKv cluster over gRPC. Knows several endpoints, remembers the leader
/// (from response headers and FAILED_PRECONDITION trailers), and retries with exponential backoff
/// and jitter on leader changes and unavailability. Writes carry one request id across all their
/// retries, so a retry after an unknown outcome is applied at most once. Thread-safe.
/// </summary>
public sealed partial class RaftKvClient : IDisposable
{
    private const string LeaderTrailer = "raftkv-leader";

    /// <summary>Trailer naming a native error by its code (the HTTP API's <c>code</c>), and the code of "not the leader".</summary>
    private const string CodeTrailer = "raftkv-code";
    private const string NotLeaderCode = "no_leader";

    private readonly ConcurrentDictionary<string, GrpcChannel> _channels = new(StringComparer.Ordinal);
    private readonly List<string> _endpoints;
    private readonly RaftKvClientOptions _options;
    private readonly ClientTls? _tls;
    private volatile string _preferred;
    private int _rotation;

    public RaftKvClient(IEnumerable<string> endpoints, RaftKvClientOptions? options = null)
    {
        var list = endpoints.ToList();
        _endpoints = list.Select(Normalize).Distinct().ToList();
        if (_endpoints.Count == 0)
        {
            throw new ArgumentException("at least one endpoint is required", nameof(endpoints));
        }

        _options = options ?? new RaftKvClientOptions();
        _tls = _options.Tls ?? (list.Any(e => e.StartsWith("https://", StringComparison.OrdinalIgnoreCase)) ? new ClientTls() : null);
        _preferred = _endpoints[0];
    }

    /// <summary>The endpoint the client currently sends to (the leader when known).</summary>
    public string CurrentEndpoint => _preferred;

    public async Task<KeyValue?> GetAsync(byte[] key, bool serializable = false, CancellationToken cancellationToken = default)
    {
        var r = await CallAsync((c, o) => new KV.KVClient(c).GetAsync(new GetRequest { Key = ByteString.CopyFrom(key), Consistency = serializable ? Consistency.Serializable : Consistency.Linearizable }, o).ResponseAsync, cancellationToken).ConfigureAwait(false);
        return r.Found ? r.Kv : null;
    }

    public Task<PutResponse> PutAsync(byte[] key, byte[] value, TimeSpan? ttl = null, bool prevKv = false, CancellationToken cancellationToken = default)
    {
        var request = new PutRequest { Key = ByteString.CopyFrom(key), Value = ByteString.CopyFrom(value), TtlSeconds = (ulong)(ttl?.TotalSeconds ?? 0), PrevKv = prevKv, RequestId = NewRequestId() };
        return CallAsync((c, o) => new KV.KVClient(c).PutAsync(request, o).ResponseAsync, cancellationToken);
    }

    public Task<DeleteResponse> DeleteAsync(byte[] key, bool prefix = false, byte[]? rangeEnd = null, CancellationToken cancellationToken = default)
    {
        var request = new DeleteRequest { Key = ByteString.CopyFrom(key), Prefix = prefix, RangeEnd = rangeEnd is null ? ByteString.Empty : ByteString.CopyFrom(rangeEnd), RequestId = NewRequestId() };
        return CallAsync((c, o) => new KV.KVClient(c).DeleteAsync(request, o).ResponseAsync, cancellationToken);
    }

    /// <summary>Deletes every key in the store (the explicit form; an empty key with a prefix is refused).</summary>
    public Task<DeleteResponse> DeleteAllAsync(CancellationToken cancellationToken = default)
    {
        var request = new DeleteRequest { AllKeys = true, RequestId = NewRequestId() };
        return CallAsync((c, o) => new KV.KVClient(c).DeleteAsync(request, o).ResponseAsync, cancellationToken);
    }

    /// <summary>One page of a range; pass <see cref="RangeResponse.Next"/> as continuation for the next.</summary>
    public Task<RangeResponse> RangeAsync(byte[] start, byte[]? end = null, bool prefix = false, uint limit = 0, byte[]? continuation = null, bool serializable = false, bool keysOnly = false, CancellationToken cancellationToken = default)
    {
        var request = new RangeRequest
        {
            Start = ByteString.CopyFrom(start),
            End = end is null ? ByteString.Empty : ByteString.CopyFrom(end),
            Prefix = prefix,
            Limit = limit,
            Continuation = continuation is null ? ByteString.Empty : ByteString.CopyFrom(continuation),
            Consistency = serializable ? Consistency.Serializable : Consistency.Linearizable,
            KeysOnly = keysOnly,
        };
        return CallAsync((c, o) => new KV.KVClient(c).RangeAsync(request, o).ResponseAsync, cancellationToken);
    }

    /// <summary>Every key/value in the range, following continuations.</summary>
    public async IAsyncEnumerable<KeyValue> ScanAsync(byte[] start, byte[]? end = null, bool prefix = false, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        byte[]? next = null;
        do
        {
            var page = await RangeAsync(start, end, prefix, 1000, next, cancellationToken: cancellationToken).ConfigureAwait(false);
            foreach (var kv in page.Kvs)
            {
                yield return kv;
            }

            next = page.More ? page.Next.ToByteArray() : null;
        }
        while (next is not null);
    }

    public Task<TxnResponse> TxnAsync(TxnRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.RequestId.Length == 0)
        {
            request.RequestId = NewRequestId();
        }

        return CallAsync((c, o) => new KV.KVClient(c).TxnAsync(request, o).ResponseAsync, cancellationToken);
    }

    /// <summary>Compare-and-set on the value: writes <paramref name="next"/> only if the key holds <paramref name="expected"/>.</summary>
    public async Task<bool> CompareAndSetAsync(byte[] key, byte[] expected, byte[] next, CancellationToken cancellationToken = default)
    {
        var txn = new TxnRequest();
        txn.Compare.Add(new Compare { Key = ByteString.CopyFrom(key), Target = Compare.Types.Target.Value, Op = Compare.Types.Op.Equal, Value = ByteString.CopyFrom(expected) });
        txn.Success.Add(new TxnOp { Put = new PutRequest { Key = ByteString.CopyFrom(key), Value = ByteString.CopyFrom(next) } });
        return (await TxnAsync(txn, cancellationToken).ConfigureAwait(false)).Succeeded;
    }

    /// <summary>
    /// Streams changes (from revision <paramref name="startVersion"/>, 0 = now) until cancelled. A broken
    /// stream (node down, UNAVAILABLE) is resumed on another endpoint from the revision after the last
    /// event seen, so no change is missed or repeated (the server replays from its history); a start
    /// revision below the compacted one ends the watch with OUT_OF_RANGE.
    /// </summary>
    public async IAsyncEnumerable<WatchEvent> WatchAsync(byte[] key, bool prefix = false, ulong startVersion = 0, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var next = startVersion;
        var backoff = _options.InitialBackoff;
        while (true)
        {
            var endpoint = _preferred;
            using var call = new KV.KVClient(Channel(endpoint)).Watch(new WatchRequest { Key = ByteString.CopyFrom(key), Prefix = prefix, StartVersion = next }, cancellationToken: cancellationToken);
            var reader = call.ResponseStream;
            while (true)
            {
                bool moved;
                try
                {
                    moved = await reader.MoveNext(cancellationToken).ConfigureAwait(false);
                }
                catch (RpcException e) when (IsRetryable(e) && !cancellationToken.IsCancellationRequested)
                {
                    _preferred = NextEndpoint(endpoint);
                    break;
                }

                if (!moved)
                {
                    yield break;
                }

                backoff = _options.InitialBackoff;
                var response = reader.Current;
                if (next == 0 && response.Header is { Revision: > 0 } h && response.Events.Count == 0)
                {
                    next = h.Revision + 1;
                }

                foreach (var e in response.Events)
                {
                    next = Math.Max(next, e.Kv.ModRevision + 1);
                    yield return e;
                }
            }

            await Task.Delay(backoff, cancellationToken).ConfigureAwait(false);
            backoff = TimeSpan.FromMilliseconds(Math.Min(backoff.TotalMilliseconds * 2, _options.MaxBackoff.TotalMilliseconds));
        }
    }

    public Task<StatusResponse> StatusAsync(CancellationToken cancellationToken = default)
        => CallAsync((c, o) => new Cluster.ClusterClient(c).StatusAsync(new StatusRequest(), o).ResponseAsync, cancellationToken);

    /// <summary>Status of one specific endpoint (no failover).</summary>
    public async Task<StatusResponse> StatusOfAsync(string endpoint, CancellationToken cancellationToken = default)
        => await new Cluster.ClusterClient(Channel(Normalize(endpoint))).StatusAsync(new StatusRequest(), deadline: DateTime.UtcNow + _options.AttemptTimeout, cancellationToken: cancellationToken);

    public Task<MembersResponse> MembersAsync(CancellationToken cancellationToken = default)
        => CallAsync((c, o) => new Cluster.ClusterClient(c).MembersAsync(new MembersRequest(), o).ResponseAsync, cancellationToken);

    public Task<FlushResponse> FlushAsync(CancellationToken cancellationToken = default)
        => CallAsync((c, o) => new Admin.AdminClient(c).FlushAsync(new FlushRequest(), o).ResponseAsync, cancellationToken);

    public Task<CompactResponse> CompactAsync(CancellationToken cancellationToken = default)
        => CallAsync((c, o) => new Admin.AdminClient(c).CompactAsync(new CompactRequest(), o).ResponseAsync, cancellationToken);

    public Task<MigrateResponse> MigrateAsync(CancellationToken cancellationToken = default)
        => CallAsync((c, o) => new Admin.AdminClient(c).MigrateAsync(new MigrateRequest(), o).ResponseAsync, cancellationToken);

    public void Dispose()
    {
        foreach (var c in _channels.Values)
        {
            c.Dispose();
        }
    }

    private static string NewRequestId() => Guid.NewGuid().ToString("N");

    /// <summary>host:port (a scheme is dropped; TLS is the client's choice for every endpoint, leader hints included).</summary>
    private static string Normalize(string endpoint)
    {
        var i = endpoint.IndexOf("://", StringComparison.Ordinal);
        return (i >= 0 ? endpoint[(i + 3)..] : endpoint).TrimEnd('/');
    }

    private GrpcChannel Channel(string endpoint)
        => _channels.GetOrAdd(endpoint, e => GrpcChannel.ForAddress(
            (_tls is null ? "http://" : "https://") + e,
            new GrpcChannelOptions
            {
                MaxReceiveMessageSize = 64 << 20,
                MaxSendMessageSize = 64 << 20,
                HttpHandler = _options.WrapHandler is { } wrap ? wrap(_tls?.CreateHandler() ?? new SocketsHttpHandler()) : _tls?.CreateHandler(),
                DisposeHttpClient = true,
                Credentials = _options.CallCredentials is { } call ? ChannelCredentials.Create(_tls is null ? ChannelCredentials.Insecure : ChannelCredentials.SecureSsl, call) : null,
                UnsafeUseInsecureChannelCallCredentials = _options.CallCredentials is not null && _tls is null,
            }));
}
