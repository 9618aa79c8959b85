using Microsoft.AspNetCore.Connections;

namespace RaftKv.Server.Hosting.ClientPorts;

/// <summary>
/// Kestrel's HTTP/1.1 connection handler for the cleartext client ports' non-HTTP/2 connections. Kestrel builds an
/// endpoint's HTTP handler only for an endpoint it binds, with the endpoint's protocols, and has no public way to
/// pick the protocol per connection without TLS. So the server also binds <see cref="EndPoint"/>, an endpoint
/// with HTTP/1.1 only and no socket (<see cref="Http1HandOffListenerFactory"/>: it never accepts): <see cref="Capture"/>
/// is its connection middleware and keeps the handler Kestrel puts after it — the same application, limits and
/// connection manager as every endpoint — and <see cref="PrefaceSniffer"/> runs client-port connections through it.
/// The connection keeps its own features (remote address, connection id, metrics tags of the client port).
/// Bind it before the client ports (Kestrel accepts on an endpoint as soon as it is bound).
/// </summary>
public sealed class Http1HandOff
{
    private ConnectionDelegate? _http1;

    /// <summary>The socket-less endpoint Kestrel binds the HTTP/1.1 handler to.</summary>
    public Http1HandOffEndPoint EndPoint { get; } = new();

    /// <summary>The hand-off endpoint's connection middleware: keeps <paramref name="next"/> (Kestrel's HTTP/1.1 handler).</summary>
    public ConnectionDelegate Capture(ConnectionDelegate next)
    {
        _http1 = next;
        return next;
    }

    /// <summary>Serves <paramref name="connection"/> as HTTP/1.1 until it closes.</summary>
    public Task RunAsync(ConnectionContext connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        if (_http1 is not { } http1)
        {
            connection.Abort(new ConnectionAbortedException("HTTP/1.1 handler not bound yet"));
            return Task.CompletedTask;
        }

        return http1(connection);
    }
}
