namespace RaftKv.Server.Configuration;

/// <summary>
/// The TLS settings as configured (file paths, not yet read; <c>Security/ServerTls</c> loads and
/// checks them). Client side: <see cref="CertFile"/> set = HTTPS and gRPC over TLS on the existing
/// ports. Peer side: <see cref="PeerCertFile"/> (default: the client-side files) set = Raft's TCP
/// transport over mutual TLS, verified against <see cref="PeerCaFile"/> only (never the machine's
/// trust store), like etcd's <c>--peer-*</c> flags.
/// </summary>
public sealed record TlsFiles
{
    public static readonly TlsFiles None = new();

    public string CertFile { get; init; } = string.Empty;
    public string KeyFile { get; init; } = string.Empty;
    public string CaFile { get; init; } = string.Empty;
    public bool ClientCertAuth { get; init; }
    public string PeerCertFile { get; init; } = string.Empty;
    public string PeerKeyFile { get; init; } = string.Empty;
    public string PeerCaFile { get; init; } = string.Empty;

    /// <summary>HTTPS on the HTTP port and TLS on the gRPC port.</summary>
    public bool ClientTls => CertFile.Length > 0;

    /// <summary>Mutual TLS on the Raft port.</summary>
    public bool PeerTls => PeerCertFile.Length > 0;

    /// <summary>Reads and cross-checks the TLS keys (paths only; the files are read by <c>ServerTls.Load</c>).</summary>
    public static TlsFiles From(Func<ConfigKey, string> get)
    {
        ArgumentNullException.ThrowIfNull(get);
        var cert = get(ConfigKeys.TlsCertFile);
        var key = get(ConfigKeys.TlsKeyFile);
        var ca = get(ConfigKeys.TlsCaFile);
        var clientAuth = get(ConfigKeys.ClientCertAuth).ToLowerInvariant() switch
        {
            "true" or "1" or "yes" => true,
            "false" or "0" or "no" or "" => false,
            var other => throw new ConfigException($"CLIENT_CERT_AUTH must be true or false, got '{other}'"),
        };
        RequirePair(ConfigKeys.TlsCertFile, cert, ConfigKeys.TlsKeyFile, key);
        if (clientAuth && cert.Length == 0)
        {
            throw new ConfigException("CLIENT_CERT_AUTH needs TLS_CERT_FILE and TLS_KEY_FILE (client certificates are checked in the TLS handshake)");
        }

        if (clientAuth && ca.Length == 0)
        {
            throw new ConfigException("CLIENT_CERT_AUTH needs TLS_CA_FILE, the CA that signs client certificates");
        }

        var peerCert = get(ConfigKeys.PeerCertFile);
        var peerKey = get(ConfigKeys.PeerKeyFile);
        RequirePair(ConfigKeys.PeerCertFile, peerCert, ConfigKeys.PeerKeyFile, peerKey);
        if (peerCert.Length == 0)
        {
            (peerCert, peerKey) = (cert, key);
        }

        var peerCa = get(ConfigKeys.PeerCaFile) is { Length: > 0 } pc ? pc : ca;
        if (peerCert.Length > 0 && peerCa.Length == 0)
        {
            throw new ConfigException("Raft peer TLS (PEER_CERT_FILE, or TLS_CERT_FILE by default) needs PEER_CA_FILE or TLS_CA_FILE: peers are verified against the cluster CA only");
        }

        return new TlsFiles
        {
            CertFile = cert,
            KeyFile = key,
            CaFile = ca,
            ClientCertAuth = clientAuth,
            PeerCertFile = peerCert,
            PeerKeyFile = peerKey,
            PeerCaFile = peerCert.Length > 0 ? peerCa : string.Empty,
        };
    }

    private static void RequirePair(ConfigKey certKey, string cert, ConfigKey keyKey, string key)
    {
        if ((cert.Length > 0) != (key.Length > 0))
        {
            throw new ConfigException($"{certKey.Env} and {keyKey.Env} must be set together");
        }
    }
}
