namespace RaftKv.Server.Hosting.ClientPorts;

/// <summary>What <see cref="PrefaceSniffer"/> decided for a cleartext client-port connection.</summary>
public enum SniffResult
{
    /// <summary>The connection opened with HTTP/2's client preface (prior knowledge: gRPC, etcdctl, the gateway's own loopback).</summary>
    Http2,

    /// <summary>Anything else that sent at least one byte: handed to Kestrel's HTTP/1.1 (which answers 400 to garbage).</summary>
    Http1,

    /// <summary>The peer closed before the first bytes decided (e.g. after <c>"PRI"</c>, or before sending anything).</summary>
    Closed,
}
