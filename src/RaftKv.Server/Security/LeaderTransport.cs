using Grpc.Net.Client;

namespace RaftKv.Server.Security;

/// <summary>
/// How a follower opens the hop to the leader's HTTP or gRPC port (<c>Pipeline/HttpLeaderForwarder</c>,
/// <c>Pipeline/GrpcLeaderForwarder</c>): plaintext, or https/TLS with the handler <see cref="ServerTls"/>
/// builds (leader verified against the CA, own certificate presented under CLIENT_CERT_AUTH).
/// </summary>
public sealed class LeaderTransport(string scheme, Func<HttpMessageHandler>? handler)
{
    public static readonly LeaderTransport Plaintext = new("http", null);

    /// <summary>"http" or "https".</summary>
    public string Scheme { get; } = scheme;

    /// <summary>How long a forwarding connection may be silent before this node pings the leader over it
    /// (HTTP/2 PING; gRPC hops), and how long the ping may go unanswered before the connection is dropped and its
    /// calls fail: a leader that vanished without closing its connections (host down, cable pulled) is noticed
    /// within 10 s even on an idle connection, instead of after the TCP retransmission timeout (minutes).
    /// A live leader answers pings however long its calls take (Kestrel answers them off the request threads). A call
    /// is usually ended sooner: at once by a leader change (<c>LeaderRouter.LeaderChange</c>), at the latest by its
    /// bound (<c>LeaderRouter.ForwardTimeout</c>).</summary>
    public static readonly TimeSpan KeepAlivePingDelay = TimeSpan.FromSeconds(5), KeepAlivePingTimeout = TimeSpan.FromSeconds(5);

    /// <summary>The primary handler of the forwarding HTTP client (plaintext: the default one), with HTTP/2
    /// keep-alive pings (<see cref="KeepAlivePingDelay"/>) on every connection, idle or not.</summary>
    public HttpMessageHandler CreateHandler()
    {
        var created = handler?.Invoke() ?? new SocketsHttpHandler();
        if (created is SocketsHttpHandler sockets)
        {
            sockets.KeepAlivePingDelay = KeepAlivePingDelay;
            sockets.KeepAlivePingTimeout = KeepAlivePingTimeout;
            sockets.KeepAlivePingPolicy = HttpKeepAlivePingPolicy.Always;
        }

        return created;
    }

    /// <summary>A gRPC channel to a leader's host:port.</summary>
    public GrpcChannel CreateChannel(string address)
        => GrpcChannel.ForAddress($"{Scheme}://{address}", new GrpcChannelOptions { HttpHandler = CreateHandler(), DisposeHttpClient = true });
}
