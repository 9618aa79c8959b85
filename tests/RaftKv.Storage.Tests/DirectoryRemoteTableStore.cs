namespace RaftKv.Storage.Tests;

/// <summary>A directory standing in for object storage in engine-level tests (the S3 one is tested
/// against a real RGW in RaftKv.Tiering.Tests). Can be switched off to simulate an outage.</summary>
internal sealed class DirectoryRemoteTableStore(string root) : IRemoteTableStore
{
    public bool Available { get; set; } = true;

    public int Deletes { get; private set; }

    public IEnumerable<string> Objects => Directory.Exists(root) ? Directory.GetFiles(root, "*", SearchOption.AllDirectories) : [];

    public Task UploadAsync(string objectName, string localPath, CancellationToken cancellationToken = default)
    {
        Check();
        var dest = Path.Combine(root, objectName);
        Directory.CreateDirectory(Path.GetDirectoryName(dest)!);
        File.Copy(localPath, dest, overwrite: true);
        return Task.CompletedTask;
    }

    public async ValueTask ReadAsync(string objectName, long offset, Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        Check();
        using var handle = File.OpenHandle(Path.Combine(root, objectName));
        var n = await RandomAccess.ReadAsync(handle, buffer, offset, cancellationToken);
        if (n != buffer.Length)
        {
            throw new EndOfStreamException();
        }
    }

    public Task DeleteAsync(string objectName, CancellationToken cancellationToken = default)
    {
        Check();
        Deletes++;
        File.Delete(Path.Combine(root, objectName));
        return Task.CompletedTask;
    }

    private void Check()
    {
        if (!Available)
        {
            throw new RemoteTierUnavailableException("object store switched off by the test");
        }
    }
}
