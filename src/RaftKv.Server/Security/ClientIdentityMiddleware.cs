using System.Security.Cryptography.X509Certificates;

namespace RaftKv.Server.Security;

/// <summary>
/// Records <see cref="ClientIdentity"/> on every request: the CN of the client certificate Kestrel
/// verified during the handshake (only under CLIENT_CERT_AUTH is one requested and checked against
/// TLS_CA_FILE). A forwarded write reaches the leader with the forwarding node's certificate; with auth
/// enabled the original user crosses the hop as a token the follower mints (<see cref="Auth.AuthPrincipal"/>).
/// </summary>
public sealed class ClientIdentityMiddleware(RequestDelegate next)
{
    public Task InvokeAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var cert = context.Connection.ClientCertificate;
        var cn = cert?.GetNameInfo(X509NameType.SimpleName, forIssuer: false);
        context.Features.Set(string.IsNullOrEmpty(cn) ? ClientIdentity.Anonymous : new ClientIdentity(cn));
        return next(context);
    }
}
