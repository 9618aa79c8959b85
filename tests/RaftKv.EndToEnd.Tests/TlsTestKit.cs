using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using RaftKv.TestSupport.Tls;

namespace RaftKv.EndToEnd.Tests;

/// <summary>Certificates of a TLS test cluster in a temp directory, and HTTPS clients that trust chosen CAs.</summary>
internal sealed class TlsTestKit : IDisposable
{
    private readonly TempDir _dir = new("raftkv-tls-e2e-");
    private readonly List<IDisposable> _owned = [];

    public TlsTestKit()
    {
        Ca = new TestCa("raftkv cluster CA");
        Other = new TestCa("some other CA");
        CaFile = Ca.WriteCa(Path.Combine(_dir.Path, "ca.pem"));
        OtherCaFile = Other.WriteCa(Path.Combine(_dir.Path, "other-ca.pem"));
    }

    public TestCa Ca { get; }

    public TestCa Other { get; }

    public string CaFile { get; }

    public string OtherCaFile { get; }

    public string Dir => _dir.Path;

    /// <summary>Issues and writes a certificate of <paramref name="ca"/>; returns it with its file paths.</summary>
    public (IssuedCertificate Cert, string CertFile, string KeyFile) Issue(TestCa ca, string name, bool clientOnly = false)
    {
        var issued = ca.Issue(name, clientOnly);
        _owned.Add(issued);
        var (cert, key) = issued.Write(Path.Combine(_dir.Path, name));
        return (issued, cert, key);
    }

    /// <summary>A node's TLS settings: its own certificate, the cluster CA, optional client-certificate auth.</summary>
    public Dictionary<string, string> NodeEnv(string certFile, string keyFile, string caFile, bool clientCertAuth) => new()
    {
        ["TLS_CERT_FILE"] = certFile,
        ["TLS_KEY_FILE"] = keyFile,
        ["TLS_CA_FILE"] = caFile,
        ["CLIENT_CERT_AUTH"] = clientCertAuth ? "true" : "false",
    };

    /// <summary>A <paramref name="count"/>-node cluster (not started) whose nodes serve certificates <c>node1</c>… of this
    /// kit's CA (mutual TLS between them) with <paramref name="env"/>; its HTTP client trusts the CA and presents
    /// <paramref name="clientCertificate"/>.</summary>
    public LocalCluster Cluster(int count, IReadOnlyDictionary<string, string>? env = null, bool clientCertAuth = false, X509Certificate2? clientCertificate = null)
    {
        var certs = Enumerable.Range(1, count).Select(i => Issue(Ca, $"node{i}")).ToList();
        return new LocalCluster(count, env, id => NodeEnv(certs[(int)id - 1].CertFile, certs[(int)id - 1].KeyFile, CaFile, clientCertAuth), Client([Ca.Certificate], clientCertificate));
    }

    /// <summary>An HTTPS handler trusting only <paramref name="trust"/> (host name checked), presenting <paramref name="clientCertificate"/>, reporting the server's certificate.</summary>
    public static SocketsHttpHandler Handler(IEnumerable<X509Certificate2> trust, X509Certificate2? clientCertificate = null, Action<X509Certificate2>? seen = null)
    {
        var policy = new X509ChainPolicy { TrustMode = X509ChainTrustMode.CustomRootTrust, RevocationMode = X509RevocationMode.NoCheck };
        policy.CustomTrustStore.AddRange(trust.ToArray());
        return new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions
            {
                EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
                CertificateChainPolicy = policy,
                ClientCertificates = clientCertificate is null ? null : [clientCertificate],
                RemoteCertificateValidationCallback = (_, cert, _, errors) =>
                {
                    if (cert is X509Certificate2 c2)
                    {
                        seen?.Invoke(c2);
                    }

                    return errors == SslPolicyErrors.None;
                },
            },
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        };
    }

    public static HttpClient Client(IEnumerable<X509Certificate2> trust, X509Certificate2? clientCertificate = null)
        => new(Handler(trust, clientCertificate)) { Timeout = TimeSpan.FromSeconds(20) };

    public void Dispose()
    {
        foreach (var o in _owned)
        {
            o.Dispose();
        }

        Ca.Dispose();
        Other.Dispose();
        _dir.Dispose();
    }
}
