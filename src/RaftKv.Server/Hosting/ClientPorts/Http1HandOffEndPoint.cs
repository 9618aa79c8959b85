using System.Net;

namespace RaftKv.Server.Hosting.ClientPorts;

/// <summary>The endpoint of <see cref="Http1HandOff"/>: no address, bound only by <see cref="Http1HandOffListenerFactory"/>.
/// Its text is what Kestrel logs as its address.</summary>
public sealed class Http1HandOffEndPoint : EndPoint
{
    public override string ToString() => "client-port-http1-handoff";
}
