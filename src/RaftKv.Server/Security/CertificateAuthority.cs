using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using RaftKv.Server.Configuration;

namespace RaftKv.Server.Security;

/// <summary>
/// A PEM CA bundle that certificates are verified against — and only against: the machine's trust
/// store plays no part (<see cref="X509ChainTrustMode.CustomRootTrust"/>). Self-signed certificates in
/// the bundle are the roots, the others intermediates. Re-read when the file changes (checked at most
/// once per <see cref="ReloadingCertificate.CheckInterval"/>); a replacement that does not parse keeps
/// the previous bundle and is reported through <see cref="ReloadFailed"/>. Revocation is not checked
/// (no CRL/OCSP, as etcd without <c>--client-crl-file</c>).
/// </summary>
public sealed class CertificateAuthority
{
    /// <summary>Extended key usage of a TLS server certificate.</summary>
    public static readonly Oid ServerAuth = new("1.3.6.1.5.5.7.3.1");

    /// <summary>Extended key usage of a TLS client certificate.</summary>
    public static readonly Oid ClientAuth = new("1.3.6.1.5.5.7.3.2");

    private readonly ConfigKey _setting;
    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    private Bundle _bundle;
    private (DateTime, long) _stamp;
    private long _nextCheck;

    public CertificateAuthority(ConfigKey setting, string path, TimeProvider? time = null)
    {
        _setting = setting;
        Path = path;
        _time = time ?? TimeProvider.System;
        _stamp = CertificateFiles.Stamp(path);
        _bundle = Load();
    }

    public string Path { get; }

    public event Action<string>? ReloadFailed;

    /// <summary>
    /// True if <paramref name="certificate"/> chains to this bundle now, and — when the certificate
    /// lists extended key usages — allows <paramref name="usage"/>. <paramref name="presented"/>: the
    /// intermediates the peer sent (the TLS stack's chain), if any. <paramref name="reason"/> says why not.
    /// </summary>
    public bool Verify(X509Certificate2 certificate, X509Chain? presented, Oid usage, out string reason)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        var bundle = Current();
        using var chain = new X509Chain();
        var policy = chain.ChainPolicy;
        policy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        policy.CustomTrustStore.AddRange(bundle.Roots);
        policy.ExtraStore.AddRange(bundle.Intermediates);
        policy.RevocationMode = X509RevocationMode.NoCheck;
        policy.ApplicationPolicy.Add(usage);
        policy.VerificationTime = _time.GetLocalNow().DateTime;
        policy.DisableCertificateDownloads = true;
        if (presented is not null)
        {
            foreach (var element in presented.ChainElements)
            {
                policy.ExtraStore.Add(element.Certificate);
            }
        }

        var ok = chain.Build(certificate);
        reason = ok ? string.Empty : string.Join("; ", chain.ChainStatus.Select(s => $"{s.Status}: {s.StatusInformation.Trim()}"));
        return ok;
    }

    private Bundle Current()
    {
        var now = _time.GetTimestamp();
        if (now < Volatile.Read(ref _nextCheck))
        {
            return Volatile.Read(ref _bundle);
        }

        lock (_lock)
        {
            Volatile.Write(ref _nextCheck, now + (long)(ReloadingCertificate.CheckInterval.TotalSeconds * _time.TimestampFrequency));
            var stamp = CertificateFiles.Stamp(Path);
            if (stamp != _stamp)
            {
                _stamp = stamp;
                try
                {
                    Volatile.Write(ref _bundle, Load());
                }
                catch (ConfigException e)
                {
                    ReloadFailed?.Invoke(e.Message);
                }
            }

            return _bundle;
        }
    }

    private Bundle Load()
    {
        var all = CertificateFiles.ReadCertificates(_setting, Path);
        var roots = new X509Certificate2Collection();
        var intermediates = new X509Certificate2Collection();
        foreach (var c in all)
        {
            (c.SubjectName.RawData.AsSpan().SequenceEqual(c.IssuerName.RawData) ? roots : intermediates).Add(c);
        }

        return roots.Count > 0 ? new Bundle(roots, intermediates) : throw new ConfigException($"{_setting.Env} '{Path}' holds no self-signed (root) CA certificate");
    }

    private sealed record Bundle(X509Certificate2Collection Roots, X509Certificate2Collection Intermediates);
}
