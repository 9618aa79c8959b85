using System.Net;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using RaftKv.Server.Security;

namespace RaftKv.Server.Hosting.ClientPorts;

/// <summary>
/// Binds the client ports (GRPC_PORT, ETCD_PORT) so they serve gRPC and HTTP/1.1 on one port, as etcd's client URL
/// does (gRPC and its JSON gateway; docs/api.md, "JSON gateway"). TLS: <c>Http1AndHttp2</c>, ALPN decides (<c>h2</c> →
/// HTTP/2, <c>http/1.1</c> or none → HTTP/1.1), both after the same handshake, so a client certificate is required
/// on both alike under CLIENT_CERT_AUTH. Cleartext: HTTP/2 with <see cref="PrefaceSniffer"/> in front, which hands
/// non-HTTP/2 connections to <see cref="Http1HandOff"/>. Both: <see cref="Http2AuthorityGuard"/> before Kestrel's HTTP/2
/// (etcd 3.4 clients' URL-style <c>:authority</c>). Call <see cref="BindHandOff"/> first.
/// </summary>
public sealed class ClientPortListener(ServerTls tls, ILoggerFactory loggers)
{
    private readonly Http1HandOff _handOff = new();

    /// <summary>Registers the hand-off's transport (before the host is built).</summary>
    public static void AddTransport(IServiceCollection services)
        => services.AddSingleton<Microsoft.AspNetCore.Connections.IConnectionListenerFactory, Http1HandOffListenerFactory>();

    /// <summary>Binds the socket-less HTTP/1.1 endpoint the cleartext client ports hand connections to (no-op with TLS).</summary>
    public void BindHandOff(KestrelServerOptions kestrel)
    {
        ArgumentNullException.ThrowIfNull(kestrel);
        if (!tls.Files.ClientTls)
        {
            kestrel.Listen(_handOff.EndPoint, l =>
            {
                l.Protocols = HttpProtocols.Http1;
                l.Use(_handOff.Capture);
            });
        }
    }

    /// <summary>Binds one client port on <paramref name="address"/>.</summary>
    public void Listen(KestrelServerOptions kestrel, IPAddress address, int port)
    {
        ArgumentNullException.ThrowIfNull(kestrel);
        kestrel.Listen(address, port, l =>
        {
            var authority = new Http2AuthorityGuard(loggers.CreateLogger<Http2AuthorityGuard>());
            if (tls.Files.ClientTls)
            {
                l.Protocols = HttpProtocols.Http1AndHttp2;
                tls.UseHttpsIfEnabled(l);
                l.Use(authority.Wrap); // on the decrypted bytes; HTTP/1.1 connections pass through at once
                return;
            }

            l.Protocols = HttpProtocols.Http2;
            var sniffer = new PrefaceSniffer(_handOff, kestrel.Limits.RequestHeadersTimeout, loggers.CreateLogger<PrefaceSniffer>());
            l.Use(sniffer.Wrap);
            l.Use(authority.Wrap); // HTTP/2 connections only (the sniffer hands the others to HTTP/1.1)
        });
    }
}
