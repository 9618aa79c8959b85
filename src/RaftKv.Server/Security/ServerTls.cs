using System.Collections.Concurrent;
using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using DotNext.Net.Security;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using RaftKv.Server.Configuration;

namespace RaftKv.Server.Security;

/// <summary>
/// The node's TLS material, loaded once at start-up (<see cref="Load"/>: every file is read and
/// checked, so a bad one is a start-up error naming it) and re-read on change afterwards:
/// <list type="bullet">
/// <item>client side — Kestrel's HTTPS on the HTTP and gRPC ports (<see cref="UseHttpsIfEnabled"/>), with a
/// client certificate signed by <c>TLS_CA_FILE</c> required under <c>CLIENT_CERT_AUTH</c>;</item>
/// <item>peer side — DotNext's <see cref="SslOptions"/> for the Raft TCP transport
/// (<see cref="RaftSsl"/>): mutual TLS, both ends verified against <c>PEER_CA_FILE</c> only;</item>
/// <item>forwarding — the follower → leader hop (<see cref="LeaderTransport"/>): https / TLS,
/// the leader verified against <c>TLS_CA_FILE</c> (name included), the node's own certificate
/// presented as client certificate.</item>
/// </list>
/// Certificates are selected per handshake (<see cref="ReloadingCertificate.Current"/>), so rotated
/// files apply to new connections without a restart, on every port.
/// </summary>
public sealed class ServerTls : IDisposable
{
    private static readonly TimeSpan LogEvery = TimeSpan.FromSeconds(30);
    private readonly ConcurrentDictionary<string, DateTime> _lastLogged = new(StringComparer.Ordinal);
    private ILogger? _logger;

    private ServerTls(TlsFiles files)
    {
        Files = files;
        if (files.ClientTls)
        {
            Server = new ReloadingCertificate(ConfigKeys.TlsCertFile, files.CertFile, ConfigKeys.TlsKeyFile, files.KeyFile);
            ClientCa = files.CaFile.Length > 0 ? new CertificateAuthority(ConfigKeys.TlsCaFile, files.CaFile) : null;
        }

        if (files.PeerTls)
        {
            var own = files.PeerCertFile == files.CertFile;
            var certKey = own ? ConfigKeys.TlsCertFile : ConfigKeys.PeerCertFile;
            var keyKey = files.PeerKeyFile == files.KeyFile ? ConfigKeys.TlsKeyFile : ConfigKeys.PeerKeyFile;
            Peer = own && Server is not null && files.PeerKeyFile == files.KeyFile ? Server : new ReloadingCertificate(certKey, files.PeerCertFile, keyKey, files.PeerKeyFile);
            var caKey = files.PeerCaFile == files.CaFile ? ConfigKeys.TlsCaFile : ConfigKeys.PeerCaFile;
            PeerCa = ClientCa is not null && files.PeerCaFile == files.CaFile ? ClientCa : new CertificateAuthority(caKey, files.PeerCaFile);

            // A peer certificate the cluster CA did not sign (or without both TLS usages) would leave
            // this node outside its own cluster: say so now rather than as handshake failures later.
            foreach (var usage in new[] { CertificateAuthority.ServerAuth, CertificateAuthority.ClientAuth })
            {
                if (!PeerCa.Verify(Peer.Current, null, usage, out var reason))
                {
                    throw new ConfigException($"{certKey.Env} '{Peer.CertPath}' is not a valid {(usage == CertificateAuthority.ServerAuth ? "server" : "client")} certificate of the cluster CA {caKey.Env} '{PeerCa.Path}': {reason}");
                }
            }
        }

        LeaderTransport = files.ClientTls ? new LeaderTransport("https", CreateForwardingHandler) : LeaderTransport.Plaintext;
    }

    public TlsFiles Files { get; }

    /// <summary>The HTTP/gRPC certificate (null = plaintext client ports).</summary>
    public ReloadingCertificate? Server { get; }

    /// <summary>CA of client certificates and of the leader's certificate when forwarding (null = the machine's trust store for the leader; no client certificates).</summary>
    public CertificateAuthority? ClientCa { get; }

    /// <summary>The Raft certificate (null = plaintext Raft); the same object as <see cref="Server"/> when the files are shared.</summary>
    public ReloadingCertificate? Peer { get; }

    public CertificateAuthority? PeerCa { get; }

    /// <summary>How a follower reaches the leader's HTTP and gRPC ports.</summary>
    public LeaderTransport LeaderTransport { get; }

    /// <summary>Reads and checks every configured file. Throws <see cref="ConfigException"/> naming the file.</summary>
    public static ServerTls Load(ServerConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        return new ServerTls(config.Tls);
    }

    /// <summary>Where rotation outcomes and rejected certificates are logged (set once the host has loggers).</summary>
    public void AttachLogger(ILogger logger)
    {
        _logger = logger;
        foreach (var cert in new[] { Server, Peer }.OfType<ReloadingCertificate>().Distinct())
        {
            cert.Reloaded += c => logger.LogInformation("TLS certificate {File} re-read: subject {Subject}, thumbprint {Thumbprint}, valid until {NotAfter:u}", cert.CertPath, c.Subject, c.Thumbprint, c.NotAfter.ToUniversalTime());
            cert.ReloadFailed += m => logger.LogWarning("TLS certificate change not applied, still serving the previous one: {Error}", m);
        }

        foreach (var ca in new[] { ClientCa, PeerCa }.OfType<CertificateAuthority>().Distinct())
        {
            ca.ReloadFailed += m => logger.LogWarning("TLS CA change not applied, still using the previous bundle: {Error}", m);
        }
    }

    /// <summary>HTTPS on a Kestrel listener (HTTP/1.1 + HTTP/2 or HTTP/2 only, negotiated by ALPN); nothing when client TLS is off.</summary>
    public void UseHttpsIfEnabled(ListenOptions listen)
    {
        ArgumentNullException.ThrowIfNull(listen);
        if (Server is not { } server)
        {
            return;
        }

        listen.UseHttps(new HttpsConnectionAdapterOptions
        {
            ServerCertificateSelector = (_, _) => server.Current,
            SslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
            CheckCertificateRevocation = false,
            ClientCertificateMode = Files.ClientCertAuth ? ClientCertificateMode.RequireCertificate : ClientCertificateMode.NoCertificate,
            ClientCertificateValidation = (cert, chain, _) => Accept(ClientCa!, cert, chain, CertificateAuthority.ClientAuth, "client"),
        });
    }

    /// <summary>DotNext's TLS options for the Raft transport: both ends present <see cref="Peer"/> and verify the other against <see cref="PeerCa"/>.</summary>
    public SslOptions? RaftSsl()
    {
        if (Peer is not { } peer || PeerCa is not { } ca)
        {
            return null;
        }

        return new SslOptions
        {
            ServerOptions = new SslServerAuthenticationOptions
            {
                ServerCertificateSelectionCallback = (_, _) => peer.Current,
                ClientCertificateRequired = true,
                EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
                CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
                RemoteCertificateValidationCallback = (_, cert, chain, _) => Accept(ca, cert, chain, CertificateAuthority.ClientAuth, "Raft peer (client)"),
            },
            ClientOptions = new SslClientAuthenticationOptions
            {
                // Peers are addressed by IP (DotNext resolves them): identity is "signed by the cluster
                // CA", not a host name, as etcd without --peer-cert-allowed-cn.
                TargetHost = "raftkv-peer",
                LocalCertificateSelectionCallback = (_, _, _, _, _) => peer.Current,
                EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
                CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
                RemoteCertificateValidationCallback = (_, cert, chain, _) => Accept(ca, cert, chain, CertificateAuthority.ServerAuth, "Raft peer (server)"),
            },
        };
    }

    public void Dispose()
    {
        Server?.Dispose();
        if (Peer != Server)
        {
            Peer?.Dispose();
        }
    }

    private SocketsHttpHandler CreateForwardingHandler() => new()
    {
        SslOptions = new SslClientAuthenticationOptions
        {
            EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
            CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
            LocalCertificateSelectionCallback = Files.ClientCertAuth ? (_, _, _, _, _) => Server!.Current : null,
            RemoteCertificateValidationCallback = (_, cert, chain, errors) =>
            {
                if (ClientCa is null)
                {
                    return errors == SslPolicyErrors.None;
                }

                if ((errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0)
                {
                    Rejected("leader", cert, "its names do not include the leader's advertised host");
                    return false;
                }

                return Accept(ClientCa, cert, chain, CertificateAuthority.ServerAuth, "leader");
            },
        },
        PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1),
        EnableMultipleHttp2Connections = true,
    };

    private bool Accept(CertificateAuthority ca, X509Certificate? cert, X509Chain? chain, Oid usage, string who)
    {
        if (cert is not X509Certificate2 c2)
        {
            Rejected(who, cert, "no certificate");
            return false;
        }

        if (ca.Verify(c2, chain, usage, out var reason))
        {
            return true;
        }

        Rejected(who, cert, reason);
        return false;
    }

    private void Rejected(string who, X509Certificate? cert, string reason)
    {
        var subject = cert?.Subject ?? "(none)";
        var now = DateTime.UtcNow;
        var key = who + "|" + subject;
        if (_logger is { } logger && (!_lastLogged.TryGetValue(key, out var last) || now - last > LogEvery))
        {
            _lastLogged[key] = now;
            logger.LogWarning("TLS: rejected the {Who} certificate {Subject} (issuer {Issuer}): {Reason}", who, subject, cert?.Issuer ?? "(none)", reason);
        }
    }
}
