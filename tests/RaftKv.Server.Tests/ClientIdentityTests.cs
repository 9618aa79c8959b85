using RaftKv.Server.Security;
using RaftKv.TestSupport.Tls;

namespace RaftKv.Server.Tests;

/// <summary>
/// The client-certificate identity (CLIENT_CERT_AUTH): the certificate's CN, derived once per certificate
/// object — Kestrel hands all requests of a TLS connection the same instance, so a request costs a table
/// lookup rather than a parse of the subject (issue #16's TLS CPU cost).
/// </summary>
public sealed class ClientIdentityTests : IDisposable
{
    private readonly TestCa _ca = new("raftkv identity CA");

    public void Dispose() => _ca.Dispose();

    [Fact]
    public void TheCommonNameIsTheUser()
    {
        using var client = _ca.Issue("alice", clientOnly: true);
        Assert.Equal("alice", ClientIdentityMiddleware.Of(client.Certificate)?.CertificateUser);
    }

    [Fact]
    public void OneConnectionsCertificateIsParsedOnce()
    {
        using var client = _ca.Issue("bob", clientOnly: true);
        var first = ClientIdentityMiddleware.Of(client.Certificate);
        Assert.NotNull(first);
        Assert.Same(first, ClientIdentityMiddleware.Of(client.Certificate)); // the same object: no second parse
    }

    [Fact]
    public void ARotatedCertificateIsReadAfresh()
    {
        using var before = _ca.Issue("carol", clientOnly: true);
        using var after = _ca.Issue("dave", clientOnly: true);
        Assert.Equal("carol", ClientIdentityMiddleware.Of(before.Certificate)?.CertificateUser);
        Assert.Equal("dave", ClientIdentityMiddleware.Of(after.Certificate)?.CertificateUser); // a new connection's certificate object
    }
}
