using System.Runtime.CompilerServices;
using System.Security.Cryptography.X509Certificates;

namespace RaftKv.Server.Security;

/// <summary>
/// Records <see cref="ClientIdentity"/> on every request: the CN of the client certificate Kestrel
/// verified during the handshake (only under CLIENT_CERT_AUTH is one requested and checked against
/// TLS_CA_FILE). A forwarded write reaches the leader with the forwarding node's certificate; with auth
/// enabled the original user crosses the hop as a token the follower mints (<see cref="Auth.AuthPrincipal"/>).
/// The identity is derived once per certificate object, i.e. once per TLS connection (Kestrel hands every
/// request of a connection the same instance): parsing the subject on every call cost CPU on each request.
/// The cache holds its certificates weakly, so closed connections' entries go with their certificates.
/// </summary>
public sealed class ClientIdentityMiddleware(RequestDelegate next)
{
    private static readonly ConditionalWeakTable<X509Certificate2, ClientIdentity> ByCertificate = [];

    public Task InvokeAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.Connection.ClientCertificate is { } cert && Of(cert) is { } identity)
        {
            context.Features.Set(identity);
        }

        return next(context); // no certificate (or no CN): no feature, and ClientIdentity.Of answers Anonymous
    }

    /// <summary>The identity a verified client certificate stands for (null without a CN); derived once per certificate object.</summary>
    internal static ClientIdentity? Of(X509Certificate2 cert)
    {
        if (ByCertificate.TryGetValue(cert, out var known))
        {
            return known.CertificateUser is null ? null : known;
        }

        var cn = cert.GetNameInfo(X509NameType.SimpleName, forIssuer: false);
        var identity = string.IsNullOrEmpty(cn) ? ClientIdentity.Anonymous : new ClientIdentity(cn);
        ByCertificate.AddOrUpdate(cert, identity);
        return identity.CertificateUser is null ? null : identity;
    }
}
