using System.IO.Pipelines;
using Microsoft.AspNetCore.Connections;

namespace RaftKv.Server.Hosting.ClientPorts;

/// <summary>
/// Connection middleware of the client ports (after TLS, after <see cref="PrefaceSniffer"/>): gives Kestrel's HTTP/2
/// an <see cref="Http2AuthorityReader"/> over the connection's input, so requests from etcd 3.4 clients dialled with
/// <c>http://host:port</c> endpoints are not reset for their URL-style <c>:authority</c> (docs/api.md, "etcd clients"),
/// and a <see cref="PingAckCoalescingWriter"/> over its output, so the answers to grpc-go's per-response BDP pings
/// leave with the next response instead of in a send of their own.
/// </summary>
public sealed class Http2AuthorityGuard(ILogger logger)
{
    /// <summary>The middleware for <c>ListenOptions.Use</c>.</summary>
    public ConnectionDelegate Wrap(ConnectionDelegate next) => connection =>
    {
        var id = connection.ConnectionId;
        var input = new Http2AuthorityReader(connection.Transport.Input, what => logger.LogDebug("Client connection {Id}: {What}", id, what));
        var output = IsHttp2(connection) ? new PingAckCoalescingWriter(connection.Transport.Output) : connection.Transport.Output;
        connection.Transport = new Transport(input, output);
        return next(connection);
    };

    /// <summary>False for an HTTP/1.1 connection over TLS (ALPN chose it, or the client offered none); a cleartext
    /// connection reaches this middleware only once <see cref="PrefaceSniffer"/> saw HTTP/2's preface.</summary>
    private static bool IsHttp2(ConnectionContext connection)
        => connection.Features.Get<Microsoft.AspNetCore.Server.Kestrel.Core.Features.ITlsApplicationProtocolFeature>() is not { } alpn
            || alpn.ApplicationProtocol.Span.SequenceEqual("h2"u8);

    private sealed class Transport(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input => input;

        public PipeWriter Output => output;
    }
}
