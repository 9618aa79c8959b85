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
        var cn = context.Connection.ClientCertificate?.GetNameInfo(X509NameType.SimpleName, forIssuer: false);
        if (!string.IsNullOrEmpty(cn))
        {
            context.Features.Set(new ClientIdentity(cn));
        }

        return next(context); // no certificate: no feature, and ClientIdentity.Of answers Anonymous
    }
}
