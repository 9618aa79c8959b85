using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using RaftKv.Server.Configuration;

namespace RaftKv.Server.Security;

/// <summary>
/// Reads PEM files into certificates, with errors that name the setting and the file
/// (<see cref="ConfigException"/>: the server prints the message and exits, no stack trace).
/// Formats: certificates as <c>-----BEGIN CERTIFICATE-----</c> blocks (a chain file starts with the
/// leaf); private keys as PKCS#8 (<c>PRIVATE KEY</c>), PKCS#1 (<c>RSA PRIVATE KEY</c>) or SEC1
/// (<c>EC PRIVATE KEY</c>), unencrypted; RSA and ECDSA keys.
/// </summary>
public static class CertificateFiles
{
    private const string RsaOid = "1.2.840.113549.1.1.1";
    private const string EcOid = "1.2.840.10045.2.1";

    /// <summary>Every certificate in a PEM file (at least one).</summary>
    public static X509Certificate2Collection ReadCertificates(ConfigKey setting, string path)
    {
        var text = ReadText(setting, path);
        var certs = new X509Certificate2Collection();
        try
        {
            certs.ImportFromPem(text);
        }
        catch (CryptographicException e)
        {
            throw new ConfigException($"{setting.Env} '{path}' does not parse as PEM certificates: {e.Message}");
        }

        return certs.Count > 0 ? certs : throw new ConfigException($"{setting.Env} '{path}' holds no PEM certificate (-----BEGIN CERTIFICATE-----)");
    }

    /// <summary>
    /// The leaf certificate of <paramref name="certPath"/> with the private key of
    /// <paramref name="keyPath"/>, valid now. Errors: unreadable or unparseable file, no certificate,
    /// a key that does not parse or does not match, an expired or not yet valid certificate.
    /// </summary>
    public static X509Certificate2 ReadPair(ConfigKey certSetting, string certPath, ConfigKey keySetting, string keyPath, DateTime now)
    {
        var certs = ReadCertificates(certSetting, certPath);
        var leaf = certs[0];
        if (now > leaf.NotAfter.ToUniversalTime())
        {
            throw new ConfigException($"{certSetting.Env} '{certPath}' expired on {leaf.NotAfter.ToUniversalTime():u} (subject {leaf.Subject})");
        }

        if (now < leaf.NotBefore.ToUniversalTime())
        {
            throw new ConfigException($"{certSetting.Env} '{certPath}' is not valid before {leaf.NotBefore.ToUniversalTime():u} (subject {leaf.Subject})");
        }

        var keyText = ReadText(keySetting, keyPath);
        var algorithm = leaf.GetKeyAlgorithm();
        try
        {
            switch (algorithm)
            {
                case RsaOid:
                    using (var rsa = RSA.Create())
                    {
                        ImportKey(keySetting, keyPath, () => rsa.ImportFromPem(keyText));
                        return Copy(leaf, () => leaf.CopyWithPrivateKey(rsa), certSetting, certPath, keySetting, keyPath);
                    }

                case EcOid:
                    using (var ec = ECDsa.Create())
                    {
                        ImportKey(keySetting, keyPath, () => ec.ImportFromPem(keyText));
                        return Copy(leaf, () => leaf.CopyWithPrivateKey(ec), certSetting, certPath, keySetting, keyPath);
                    }

                default:
                    throw new ConfigException($"{certSetting.Env} '{certPath}' has a {algorithm} key; RSA and ECDSA are supported");
            }
        }
        finally
        {
            foreach (var c in certs)
            {
                c.Dispose();
            }
        }
    }

    /// <summary>The file's last write time and length: a change of either means "re-read".</summary>
    public static (DateTime, long) Stamp(string path)
    {
        try
        {
            var info = new FileInfo(path);
            return info.Exists ? (info.LastWriteTimeUtc, info.Length) : (DateTime.MinValue, -1);
        }
        catch (IOException)
        {
            return (DateTime.MinValue, -1);
        }
    }

    private static void ImportKey(ConfigKey setting, string path, Action import)
    {
        try
        {
            import();
        }
        catch (Exception e) when (e is ArgumentException or CryptographicException)
        {
            throw new ConfigException($"{setting.Env} '{path}' is not an unencrypted PEM private key of the certificate's type: {e.Message}");
        }
    }

    private static X509Certificate2 Copy(X509Certificate2 leaf, Func<X509Certificate2> copy, ConfigKey certSetting, string certPath, ConfigKey keySetting, string keyPath)
    {
        try
        {
            return copy();
        }
        catch (Exception e) when (e is ArgumentException or CryptographicException)
        {
            throw new ConfigException($"{keySetting.Env} '{keyPath}' does not match the certificate in {certSetting.Env} '{certPath}' (subject {leaf.Subject})");
        }
    }

    private static string ReadText(ConfigKey setting, string path)
    {
        if (Directory.Exists(path))
        {
            throw new ConfigException($"{setting.Env} '{path}' is a directory, not a PEM file"); // .NET reports it as "Access denied"
        }

        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            throw new ConfigException($"{setting.Env} '{path}' cannot be read: {e.Message}");
        }
    }
}
