using System.Security.Cryptography.X509Certificates;
using RaftKv.Server.Configuration;
using RaftKv.Server.Security;
using RaftKv.TestSupport;
using RaftKv.TestSupport.Tls;

namespace RaftKv.Server.Tests;

/// <summary>
/// TLS configuration and certificate files: every bad file is a <see cref="ConfigException"/> naming
/// the setting and the file (the server prints it and exits 2), certificates and CA bundles are re-read
/// when their files change, and peers are verified against the configured CA only.
/// </summary>
public sealed class TlsLoadingTests : IDisposable
{
    private readonly TempDir _dir = new("raftkv-tls-");
    private readonly TestCa _ca = new("raftkv test CA");
    private readonly TestCa _other = new("another CA");

    public void Dispose()
    {
        _ca.Dispose();
        _other.Dispose();
        _dir.Dispose();
    }

    private string P(string name) => Path.Combine(_dir.Path, name);

    private static ServerConfig Config(Dictionary<string, string?> env) => ConfigLoader.Load([], env);

    private Dictionary<string, string?> Env(string cert, string key, string? ca = null, bool clientAuth = false)
    {
        var env = new Dictionary<string, string?> { ["TLS_CERT_FILE"] = cert, ["TLS_KEY_FILE"] = key, ["TLS_CA_FILE"] = ca ?? _ca.WriteCa(P("ca.pem")) };
        if (clientAuth)
        {
            env["CLIENT_CERT_AUTH"] = "true";
        }

        return env;
    }

    [Fact]
    public void PlaintextIsTheDefault()
    {
        var config = Config([]);
        Assert.False(config.Tls.ClientTls);
        Assert.False(config.Tls.PeerTls);
        using var tls = ServerTls.Load(config);
        Assert.Null(tls.RaftSsl());
        Assert.Equal("http", tls.LeaderTransport.Scheme);
    }

    [Fact]
    public void ValidFilesTurnOnClientAndPeerTls()
    {
        using var node = _ca.Issue("node1");
        var (cert, key) = node.Write(P("node1"));
        var config = Config(Env(cert, key, clientAuth: true));
        Assert.True(config.Tls.ClientTls);
        Assert.True(config.Tls.PeerTls);
        Assert.Equal(cert, config.Tls.PeerCertFile); // peer files default to the client-side ones
        using var tls = ServerTls.Load(config);
        Assert.Equal(node.Thumbprint, tls.Server!.Current.Thumbprint);
        Assert.True(tls.Server.Current.HasPrivateKey);
        Assert.Same(tls.Server, tls.Peer);
        Assert.NotNull(tls.RaftSsl());
        Assert.Equal("https", tls.LeaderTransport.Scheme);
    }

    [Theory]
    [InlineData("TLS_CERT_FILE", "TLS_KEY_FILE")]
    [InlineData("PEER_CERT_FILE", "PEER_KEY_FILE")]
    public void CertificateAndKeyGoTogether(string set, string missing)
    {
        var e = Assert.Throws<ConfigException>(() => Config(new() { [set] = "/x.pem" }));
        Assert.Contains(missing, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ClientCertAuthNeedsTlsAndACa()
    {
        Assert.Contains("TLS_CERT_FILE", Assert.Throws<ConfigException>(() => Config(new() { ["CLIENT_CERT_AUTH"] = "true" })).Message, StringComparison.Ordinal);
        Assert.Contains("TLS_CA_FILE", Assert.Throws<ConfigException>(() => Config(new() { ["CLIENT_CERT_AUTH"] = "true", ["TLS_CERT_FILE"] = "c", ["TLS_KEY_FILE"] = "k", ["PEER_CA_FILE"] = "ca" })).Message, StringComparison.Ordinal);
        Assert.Contains("CLIENT_CERT_AUTH", Assert.Throws<ConfigException>(() => Config(new() { ["CLIENT_CERT_AUTH"] = "maybe" })).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void PeerTlsNeedsTheClusterCa()
        => Assert.Contains("PEER_CA_FILE", Assert.Throws<ConfigException>(() => Config(new() { ["TLS_CERT_FILE"] = "c", ["TLS_KEY_FILE"] = "k" })).Message, StringComparison.Ordinal);

    [Fact]
    public void CertificateFileThatDoesNotParseIsNamed()
    {
        using var node = _ca.Issue("node1");
        var (_, key) = node.Write(P("node1"));
        File.WriteAllText(P("garbage.pem"), "-----BEGIN CERTIFICATE-----\nnot base64 at all!\n-----END CERTIFICATE-----\n");
        var e = Assert.Throws<ConfigException>(() => ServerTls.Load(Config(Env(P("garbage.pem"), key))));
        Assert.Contains($"TLS_CERT_FILE '{P("garbage.pem")}'", e.Message, StringComparison.Ordinal);

        File.WriteAllText(P("empty.pem"), "hello\n");
        e = Assert.Throws<ConfigException>(() => ServerTls.Load(Config(Env(P("empty.pem"), key))));
        Assert.Contains($"TLS_CERT_FILE '{P("empty.pem")}' holds no PEM certificate", e.Message, StringComparison.Ordinal);

        e = Assert.Throws<ConfigException>(() => ServerTls.Load(Config(Env(P("missing.pem"), key))));
        Assert.Contains($"TLS_CERT_FILE '{P("missing.pem")}' cannot be read", e.Message, StringComparison.Ordinal);

        Directory.CreateDirectory(P("a-directory"));
        e = Assert.Throws<ConfigException>(() => ServerTls.Load(Config(Env(P("a-directory"), key))));
        Assert.Contains($"TLS_CERT_FILE '{P("a-directory")}' is a directory", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void KeyThatDoesNotParseOrDoesNotMatchIsNamed()
    {
        using var node = _ca.Issue("node1");
        using var stranger = _ca.Issue("node2");
        var (cert, _) = node.Write(P("node1"));
        var (_, strangerKey) = stranger.Write(P("node2"));
        File.WriteAllText(P("bad-key.pem"), "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n");
        var e = Assert.Throws<ConfigException>(() => ServerTls.Load(Config(Env(cert, P("bad-key.pem")))));
        Assert.Contains($"TLS_KEY_FILE '{P("bad-key.pem")}'", e.Message, StringComparison.Ordinal);

        e = Assert.Throws<ConfigException>(() => ServerTls.Load(Config(Env(cert, strangerKey))));
        Assert.Contains($"TLS_KEY_FILE '{strangerKey}' does not match the certificate in TLS_CERT_FILE '{cert}'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ExpiredOrNotYetValidCertificateIsNamed()
    {
        using var expired = _ca.Issue("old", notBefore: DateTimeOffset.UtcNow.AddDays(-10), notAfter: DateTimeOffset.UtcNow.AddDays(-1));
        var (cert, key) = expired.Write(P("old"));
        var e = Assert.Throws<ConfigException>(() => ServerTls.Load(Config(Env(cert, key))));
        Assert.Contains($"TLS_CERT_FILE '{cert}' expired", e.Message, StringComparison.Ordinal);

        using var future = _ca.Issue("future", notBefore: DateTimeOffset.UtcNow.AddDays(1));
        (cert, key) = future.Write(P("future"));
        e = Assert.Throws<ConfigException>(() => ServerTls.Load(Config(Env(cert, key))));
        Assert.Contains($"TLS_CERT_FILE '{cert}' is not valid before", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void PeerCertificateOfAnotherCaIsAStartupError()
    {
        using var rogue = _other.Issue("rogue");
        var (cert, key) = rogue.Write(P("rogue"));
        var e = Assert.Throws<ConfigException>(() => ServerTls.Load(Config(Env(cert, key))));
        Assert.Contains($"TLS_CERT_FILE '{cert}' is not a valid server certificate of the cluster CA TLS_CA_FILE '{P("ca.pem")}'", e.Message, StringComparison.Ordinal);

        File.WriteAllText(P("not-a-ca.pem"), "junk");
        e = Assert.Throws<ConfigException>(() => ServerTls.Load(Config(Env(cert, key, P("not-a-ca.pem")))));
        Assert.Contains($"TLS_CA_FILE '{P("not-a-ca.pem")}'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ClientOnlyCertificateCannotServeAsAPeer()
    {
        using var client = _ca.Issue("alice", clientOnly: true);
        var (cert, key) = client.Write(P("alice"));
        var e = Assert.Throws<ConfigException>(() => ServerTls.Load(Config(Env(cert, key))));
        Assert.Contains("not a valid server certificate", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CaVerifiesOnlyItsOwnCertificatesForTheRightUsage()
    {
        var ca = new CertificateAuthority(ConfigKeys.TlsCaFile, _ca.WriteCa(P("ca.pem")));
        using var node = _ca.Issue("node");
        using var alice = _ca.Issue("alice", clientOnly: true);
        using var rogue = _other.Issue("rogue");
        Assert.True(ca.Verify(node.Certificate, null, CertificateAuthority.ServerAuth, out _));
        Assert.True(ca.Verify(alice.Certificate, null, CertificateAuthority.ClientAuth, out _));
        Assert.False(ca.Verify(alice.Certificate, null, CertificateAuthority.ServerAuth, out var usage));
        Assert.NotEmpty(usage);
        Assert.False(ca.Verify(rogue.Certificate, null, CertificateAuthority.ClientAuth, out var reason));
        Assert.NotEmpty(reason);
        Assert.False(ca.Verify(_other.Certificate, null, CertificateAuthority.ClientAuth, out _)); // another root, self-signed
    }

    [Fact]
    public void ReplacedFilesAreReReadAndABadReplacementKeepsThePreviousCertificate()
    {
        using var first = _ca.Issue("first");
        using var second = _ca.Issue("second");
        var (cert, key) = first.Write(P("node"));
        using var reloading = new ReloadingCertificate(ConfigKeys.TlsCertFile, cert, ConfigKeys.TlsKeyFile, key);
        var failures = new List<string>();
        reloading.ReloadFailed += failures.Add;
        Assert.Equal(first.Thumbprint, reloading.Current.Thumbprint);

        second.Write(P("node"));
        reloading.Refresh();
        Assert.Equal(second.Thumbprint, reloading.Current.Thumbprint);
        Assert.True(reloading.Current.HasPrivateKey);

        File.WriteAllText(cert, "half-written");
        reloading.Refresh();
        Assert.Equal(second.Thumbprint, reloading.Current.Thumbprint);
        Assert.Contains(failures, f => f.Contains(cert, StringComparison.Ordinal));

        // Rotation one file at a time: the certificate first (does not match the old key), then the key.
        using var third = _ca.Issue("third");
        File.WriteAllText(cert, third.Certificate.ExportCertificatePem());
        reloading.Refresh();
        Assert.Equal(second.Thumbprint, reloading.Current.Thumbprint);
        third.Write(P("node"));
        reloading.Refresh();
        Assert.Equal(third.Thumbprint, reloading.Current.Thumbprint);
    }

    [Fact]
    public void RaftSslSelectsTheCurrentCertificateOnEachHandshake()
    {
        using var first = _ca.Issue("first");
        using var second = _ca.Issue("second");
        var (cert, key) = first.Write(P("node"));
        using var tls = ServerTls.Load(Config(Env(cert, key)));
        var ssl = tls.RaftSsl()!;
        Assert.True(ssl.ServerOptions.ClientCertificateRequired);
        Assert.Equal(first.Thumbprint, ((X509Certificate2)ssl.ServerOptions.ServerCertificateSelectionCallback!(this, null)).Thumbprint);
        second.Write(P("node"));
        tls.Peer!.Refresh();
        Assert.Equal(second.Thumbprint, ((X509Certificate2)ssl.ServerOptions.ServerCertificateSelectionCallback!(this, null)).Thumbprint);
        Assert.Equal(second.Thumbprint, ((X509Certificate2?)ssl.ClientOptions.LocalCertificateSelectionCallback!(this, string.Empty, [], null, []))!.Thumbprint);
    }
}
