namespace RaftKv.Server.Security;

/// <summary>
/// Who the client authenticated as, recorded once per request by <see cref="ClientIdentityMiddleware"/>
/// as an HttpContext feature (gRPC calls reach it through <c>ServerCallContext.GetHttpContext()</c>).
/// Today only TLS: <see cref="CertificateUser"/> is the CN of the client certificate the handshake
/// verified (CLIENT_CERT_AUTH), as etcd's user name: with auth enabled, the user of a request that carries no
/// token (<see cref="Auth.AuthGate"/>).
/// </summary>
public sealed record ClientIdentity(string? CertificateUser)
{
    public static readonly ClientIdentity Anonymous = new((string?)null);

    /// <summary>The request's identity (<see cref="Anonymous"/> if none was recorded).</summary>
    public static ClientIdentity Of(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return context.Features.Get<ClientIdentity>() ?? Anonymous;
    }
}
