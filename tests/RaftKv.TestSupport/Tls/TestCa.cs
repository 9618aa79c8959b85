using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace RaftKv.TestSupport.Tls;

/// <summary>
/// A throw-away certificate authority made with .NET's <see cref="CertificateRequest"/> (no openssl
/// needed): ECDSA P-256 keys, PEM files the server and the clients read. Issued certificates name
/// 127.0.0.1 and localhost by default.
/// </summary>
public sealed class TestCa : IDisposable
{
    private readonly ECDsa _key;

    public TestCa(string name)
    {
        _key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", _key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        Certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-30), DateTimeOffset.UtcNow.AddYears(1));
    }

    /// <summary>The CA certificate (with its key).</summary>
    public X509Certificate2 Certificate { get; }

    /// <summary>Writes the CA certificate as PEM; returns the path.</summary>
    public string WriteCa(string path)
    {
        File.WriteAllText(path, Certificate.ExportCertificatePem());
        return path;
    }

    /// <summary>
    /// A leaf certificate for <paramref name="commonName"/> with serverAuth and clientAuth usages (as a
    /// node certificate: it serves and dials peers) unless <paramref name="clientOnly"/>.
    /// </summary>
    public IssuedCertificate Issue(string commonName, bool clientOnly = false, DateTimeOffset? notBefore = null, DateTimeOffset? notAfter = null, string[]? dnsNames = null)
    {
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={commonName}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyAgreement, true));
        var usages = new OidCollection { new Oid("1.3.6.1.5.5.7.3.2") };
        if (!clientOnly)
        {
            usages.Add(new Oid("1.3.6.1.5.5.7.3.1"));
        }

        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(usages, false));
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        foreach (var dns in dnsNames ?? ["localhost"])
        {
            san.AddDnsName(dns);
        }

        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(Certificate, true, false));
        var serial = new byte[16];
        RandomNumberGenerator.Fill(serial);
        serial[0] &= 0x7F;
        using var issued = request.Create(Certificate, notBefore ?? DateTimeOffset.UtcNow.AddHours(-1), notAfter ?? DateTimeOffset.UtcNow.AddDays(30), serial);
        return new IssuedCertificate(issued.CopyWithPrivateKey(key), key);
    }

    public void Dispose()
    {
        Certificate.Dispose();
        _key.Dispose();
    }
}
