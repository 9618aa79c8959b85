namespace RaftKv.Server.Pipeline;

/// <summary>
/// Which request headers a follower passes on when it forwards a call to the leader: every header
/// that carries meaning to the application (X-Request-Id for at-most-once retries, Authorization,
/// Accept, Content-Type, and any header added later) goes through; only hop-by-hop and
/// transport-owned headers stay behind, because the forwarding client sets its own.
/// </summary>
public static class ForwardedHeaders
{
    /// <summary>Headers of one connection or one hop (RFC 9110 §7.6.1) and those the forwarding HTTP
    /// client computes itself.</summary>
    private static readonly HashSet<string> HopByHop = new(StringComparer.OrdinalIgnoreCase)
    {
        "Connection", "Keep-Alive", "Proxy-Connection", "Proxy-Authenticate", "Proxy-Authorization",
        "TE", "Trailer", "Transfer-Encoding", "Upgrade", "Host", "Content-Length", "Expect",

        // The follower replays the leader's body as received, without its Content-Encoding.
        "Accept-Encoding",
    };

    /// <summary>Headers the gRPC client library owns on every call (content type, deadline, encodings).</summary>
    private static readonly HashSet<string> GrpcTransport = new(StringComparer.OrdinalIgnoreCase)
    {
        "content-type", "user-agent",
    };

    /// <summary>True when an HTTP request header is forwarded (HTTP front door).</summary>
    public static bool ForwardHttp(string name) => !HopByHop.Contains(name) && !name.StartsWith(':');

    /// <summary>True when a gRPC metadata entry is forwarded (gRPC front door): HTTP's rule, minus the
    /// <c>grpc-*</c> headers (deadline and encodings are set by the forwarding call itself).</summary>
    public static bool ForwardGrpc(string name)
        => ForwardHttp(name) && !GrpcTransport.Contains(name) && !name.StartsWith("grpc-", StringComparison.OrdinalIgnoreCase);
}
