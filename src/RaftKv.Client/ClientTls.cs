using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;

namespace RaftKv.Client;

/// <summary>
/// TLS for a client of RaftKv's gRPC (or HTTP) port, from PEM files — kvctl's and raftkv-bench's
/// <c>--cacert/--cert/--key</c>. <see cref="CaCertFile"/>: the CA to trust instead of the machine's
/// trust store (the server's certificate must chain to it and name the host dialled);
/// <see cref="CertFile"/> + <see cref="KeyFile"/>: the client certificate for servers with
/// CLIENT_CERT_AUTH (its CN is the user). The files are read once, when the options are built.
/// </summary>
public sealed class ClientTls
{
    private readonly X509Certificate2Collection? _trust;
    private readonly X509Certificate2? _clientCertificate;

    public ClientTls(string? caCertFile = null, string? certFile = null, string? keyFile = null)
    {
        if (string.IsNullOrEmpty(certFile) != string.IsNullOrEmpty(keyFile))
        {
            throw new ArgumentException("--cert and --key go together (the client certificate and its private key)");
        }

        CaCertFile = caCertFile;
        CertFile = certFile;
        KeyFile = keyFile;
        if (!string.IsNullOrEmpty(caCertFile))
        {
            _trust = [];
            _trust.ImportFromPemFile(caCertFile);
            if (_trust.Count == 0)
            {
                throw new ArgumentException($"--cacert '{caCertFile}' holds no PEM certificate");
            }
        }

        if (!string.IsNullOrEmpty(certFile))
        {
            _clientCertificate = X509Certificate2.CreateFromPemFile(certFile, keyFile);
        }
    }

    public string? CaCertFile { get; }

    public string? CertFile { get; }

    public string? KeyFile { get; }

    /// <summary>A handler for <c>GrpcChannelOptions.HttpHandler</c> or <see cref="HttpClient"/>.</summary>
    public SocketsHttpHandler CreateHandler()
    {
        var ssl = new SslClientAuthenticationOptions
        {
            EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
            CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
        };
        if (_clientCertificate is not null)
        {
            ssl.ClientCertificates = [_clientCertificate];
        }

        if (_trust is not null)
        {
            var policy = new X509ChainPolicy
            {
                TrustMode = X509ChainTrustMode.CustomRootTrust,
                RevocationMode = X509RevocationMode.NoCheck,
                DisableCertificateDownloads = true,
            };
            foreach (var c in _trust)
            {
                (c.SubjectName.RawData.AsSpan().SequenceEqual(c.IssuerName.RawData) ? policy.CustomTrustStore : policy.ExtraStore).Add(c);
            }

            ssl.CertificateChainPolicy = policy;
        }

        return new SocketsHttpHandler { SslOptions = ssl, EnableMultipleHttp2Connections = true };
    }
}
