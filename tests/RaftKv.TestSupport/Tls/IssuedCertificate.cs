using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace RaftKv.TestSupport.Tls;

/// <summary>A leaf certificate from <see cref="TestCa"/> and its key, writable as the PEM pair the server reads.</summary>
public sealed class IssuedCertificate(X509Certificate2 certificate, ECDsa key) : IDisposable
{
    public X509Certificate2 Certificate { get; } = certificate;

    public string Thumbprint => Certificate.Thumbprint;

    /// <summary>Writes <c>{prefix}.pem</c> and <c>{prefix}-key.pem</c> (each atomically: temp file, then rename); returns both paths.</summary>
    public (string Cert, string Key) Write(string prefix)
    {
        var cert = prefix + ".pem";
        var keyPath = prefix + "-key.pem";
        WriteAtomically(cert, Certificate.ExportCertificatePem());
        WriteAtomically(keyPath, key.ExportPkcs8PrivateKeyPem());
        return (cert, keyPath);
    }

    public void Dispose()
    {
        Certificate.Dispose();
        key.Dispose();
    }

    private static void WriteAtomically(string path, string text)
    {
        var temp = path + ".tmp";
        File.WriteAllText(temp, text);
        File.Move(temp, path, overwrite: true);
    }
}
