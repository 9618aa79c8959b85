using System.Net;
using Microsoft.AspNetCore.Connections;

namespace RaftKv.Server.Hosting.ClientPorts;

/// <summary>Binds <see cref="Http1HandOffEndPoint"/> (only it: Kestrel asks every transport factory
/// <see cref="CanBind"/>) to <see cref="Http1HandOffListener"/>, which accepts nothing.</summary>
public sealed class Http1HandOffListenerFactory : IConnectionListenerFactory, IConnectionListenerFactorySelector
{
    public bool CanBind(EndPoint endpoint) => endpoint is Http1HandOffEndPoint;

    public ValueTask<IConnectionListener> BindAsync(EndPoint endpoint, CancellationToken cancellationToken = default)
        => ValueTask.FromResult<IConnectionListener>(new Http1HandOffListener(endpoint));
}
