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

    /// <summary>The primary handler of the forwarding HTTP client (plaintext: the default one).</summary>
    public HttpMessageHandler CreateHandler() => handler?.Invoke() ?? new SocketsHttpHandler();

    /// <summary>A gRPC channel to a leader's host:port.</summary>
    public GrpcChannel CreateChannel(string address)
        => GrpcChannel.ForAddress($"{Scheme}://{address}", new GrpcChannelOptions { HttpHandler = CreateHandler(), DisposeHttpClient = true });
}
