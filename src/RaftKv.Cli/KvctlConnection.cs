using System.Collections.Concurrent;
using Grpc.Core;
using Grpc.Net.Client;
using RaftKv.Client;

namespace RaftKv.Cli;

/// <summary>
/// What one command talks to: the native client (<see cref="Client"/>, leader discovery and retries over every
/// endpoint), etcd API calls with failover (<see cref="EtcdAsync"/>), the HTTP admin routes (<see cref="Http"/>),
/// and <c>--user</c> credentials on all of them. Created per command; disposed with its channels.
/// </summary>
public sealed class KvctlConnection : IDisposable
{
    private readonly ConcurrentDictionary<(string Endpoint, bool Authenticated), GrpcChannel> _channels = new();
    private readonly RaftKvClient _client;
    private readonly AuthTokenSource? _tokens;
    private AdminHttp? _http;

    public KvctlConnection(KvctlSettings settings)
    {
        Settings = settings;
        _tokens = settings.User is null ? null : new AuthTokenSource(settings, e => Channel(e, authenticated: false));
        _client = new RaftKvClient(settings.Endpoints, new RaftKvClientOptions
        {
            Tls = settings.Tls,
            RetryBudget = settings.CommandTimeout,
            AttemptTimeout = TimeSpan.FromTicks(Math.Min(settings.CommandTimeout.Ticks, TimeSpan.FromSeconds(5).Ticks)),
            CallCredentials = _tokens?.Credentials,
        });
    }

    public KvctlSettings Settings { get; }

    public RaftKvClient Client => _client;

    public AdminHttp Http => _http ??= new AdminHttp(this);

    private bool UseTls => Settings.Tls is not null || Settings.Endpoints.Any(e => e.StartsWith("https://", StringComparison.OrdinalIgnoreCase));

    /// <summary>Authenticates now when <c>--user</c> is given, so a bad password is reported as such (exit 5) before any call.</summary>
    public async Task AuthenticateAsync(CancellationToken cancellationToken)
    {
        if (_tokens is not null)
        {
            await _tokens.GetAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>An etcd API call, tried on each endpoint in turn while they are unavailable, within the command timeout.</summary>
    public async Task<T> EtcdAsync<T>(Func<GrpcChannel, CallOptions, Task<T>> call, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + Settings.CommandTimeout;
        RpcException? last = null;
        foreach (var endpoint in Settings.Endpoints)
        {
            try
            {
                return await call(Channel(endpoint, authenticated: true), new CallOptions(deadline: deadline, cancellationToken: cancellationToken)).ConfigureAwait(false);
            }
            catch (RpcException e) when (e.StatusCode is StatusCode.Unavailable or StatusCode.Internal && DateTime.UtcNow < deadline)
            {
                last = e;
            }
        }

        throw last ?? new RpcException(new Status(StatusCode.Unavailable, "no endpoint answered"));
    }

    /// <summary>An HTTP handler with the command's TLS settings (for <see cref="AdminHttp"/>).</summary>
    public HttpMessageHandler CreateHttpHandler() => Settings.Tls?.CreateHandler() ?? (UseTls ? new ClientTls().CreateHandler() : new SocketsHttpHandler());

    /// <summary>"https" or "http", as the gRPC endpoints are dialled.</summary>
    public string Scheme => UseTls ? "https" : "http";

    public void Dispose()
    {
        _client.Dispose();
        _http?.Dispose();
        _tokens?.Dispose();
        foreach (var c in _channels.Values)
        {
            c.Dispose();
        }
    }

    private GrpcChannel Channel(string endpoint, bool authenticated)
        => _channels.GetOrAdd((Strip(endpoint), authenticated), k =>
        {
            var call = k.Authenticated ? _tokens?.Credentials : null;
            return GrpcChannel.ForAddress($"{Scheme}://{k.Endpoint}", new GrpcChannelOptions
            {
                MaxReceiveMessageSize = 64 << 20,
                HttpHandler = CreateHttpHandler(),
                DisposeHttpClient = true,
                Credentials = call is null ? null : ChannelCredentials.Create(UseTls ? ChannelCredentials.SecureSsl : ChannelCredentials.Insecure, call),
                UnsafeUseInsecureChannelCallCredentials = call is not null && !UseTls,
            });
        });

    private static string Strip(string endpoint)
    {
        var i = endpoint.IndexOf("://", StringComparison.Ordinal);
        return (i >= 0 ? endpoint[(i + 3)..] : endpoint).TrimEnd('/');
    }
}
