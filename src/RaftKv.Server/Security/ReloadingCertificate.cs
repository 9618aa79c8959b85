using System.Security.Cryptography.X509Certificates;
using RaftKv.Server.Configuration;

namespace RaftKv.Server.Security;

/// <summary>
/// A certificate and its key from two PEM files, re-read when either file changes (last write time or
/// length), checked at most once per <see cref="CheckInterval"/>. <see cref="Current"/> is called on
/// every TLS handshake (Kestrel's certificate selector, the Raft transport's selection callbacks), so
/// a rotated certificate is served to the next new connection; open connections keep theirs.
/// A replacement that does not load (half-written files, a key that does not match yet, expired)
/// keeps the previous certificate and is reported through <see cref="ReloadFailed"/>; the next
/// handshake after the files change again tries again. The first load throws instead
/// (<see cref="ConfigException"/> naming the file).
/// </summary>
public sealed class ReloadingCertificate : IDisposable
{
    /// <summary>Bounds the file-system checks under a burst of new connections.</summary>
    public static readonly TimeSpan CheckInterval = TimeSpan.FromMilliseconds(500);

    private readonly ConfigKey _certSetting;
    private readonly ConfigKey _keySetting;
    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    private X509Certificate2 _current;
    private ((DateTime, long) Cert, (DateTime, long) Key) _stamp;
    private long _nextCheck;

    public ReloadingCertificate(ConfigKey certSetting, string certPath, ConfigKey keySetting, string keyPath, TimeProvider? time = null)
    {
        _certSetting = certSetting;
        _keySetting = keySetting;
        CertPath = certPath;
        KeyPath = keyPath;
        _time = time ?? TimeProvider.System;
        _stamp = (CertificateFiles.Stamp(certPath), CertificateFiles.Stamp(keyPath));
        _current = CertificateFiles.ReadPair(certSetting, certPath, keySetting, keyPath, _time.GetUtcNow().UtcDateTime);
        _nextCheck = _time.GetTimestamp() + Ticks(CheckInterval);
    }

    public string CertPath { get; }

    public string KeyPath { get; }

    /// <summary>A replacement failed to load (the message names the file); the previous certificate stays.</summary>
    public event Action<string>? ReloadFailed;

    /// <summary>A replacement was loaded (its subject and thumbprint).</summary>
    public event Action<X509Certificate2>? Reloaded;

    /// <summary>The certificate to present now (re-read first if the files changed).</summary>
    public X509Certificate2 Current
    {
        get
        {
            var now = _time.GetTimestamp();
            if (now >= Volatile.Read(ref _nextCheck))
            {
                Refresh(now);
            }

            return Volatile.Read(ref _current);
        }
    }

    /// <summary>Checks the files now, regardless of <see cref="CheckInterval"/>.</summary>
    public void Refresh() => Refresh(_time.GetTimestamp());

    public void Dispose() => _current.Dispose();

    private void Refresh(long now)
    {
        lock (_lock)
        {
            Volatile.Write(ref _nextCheck, now + Ticks(CheckInterval));
            var stamp = (CertificateFiles.Stamp(CertPath), CertificateFiles.Stamp(KeyPath));
            if (stamp == _stamp)
            {
                return;
            }

            try
            {
                var next = CertificateFiles.ReadPair(_certSetting, CertPath, _keySetting, KeyPath, _time.GetUtcNow().UtcDateTime);
                _stamp = stamp;

                // The previous certificate is not disposed: handshakes in flight may still use it.
                Volatile.Write(ref _current, next);
                Reloaded?.Invoke(next);
            }
            catch (ConfigException e)
            {
                // Retry when the files change again (a pair written one file at a time loads on the second change).
                _stamp = stamp;
                ReloadFailed?.Invoke(e.Message);
            }
        }
    }

    private long Ticks(TimeSpan span) => (long)(span.TotalSeconds * _time.TimestampFrequency);
}
