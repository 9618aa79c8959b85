using RaftKv.Storage.IO;

namespace RaftKv.Storage.Tests;

/// <summary>An in-memory object store whose uploads read the local file through an <see cref="IFileSystem"/>
/// (so it works with <see cref="TestSupport.IO.CrashableMemoryFileSystem"/>); objects survive the file
/// system's simulated power cuts, as S3 objects do. Counts ranged reads.</summary>
internal sealed class FileSystemRemoteTableStore(IFileSystem fs) : IRemoteTableStore
{
    private readonly Dictionary<string, byte[]> _objects = [];
    private readonly Lock _lock = new();

    public int Reads { get; private set; }

    public long Length(string objectName)
    {
        lock (_lock)
        {
            return _objects[objectName].Length;
        }
    }

    public Task UploadAsync(string objectName, string localPath, CancellationToken cancellationToken = default)
    {
        using var f = fs.OpenRead(localPath);
        var bytes = new byte[f.Length];
        f.ReadExactly(0, bytes);
        lock (_lock)
        {
            _objects[objectName] = bytes;
        }

        return Task.CompletedTask;
    }

    public async ValueTask ReadAsync(string objectName, long offset, Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        await Task.Yield(); // a real round trip: the caller has to wait
        lock (_lock)
        {
            Reads++;
            _objects[objectName].AsMemory((int)offset, buffer.Length).CopyTo(buffer);
        }
    }

    public Task DeleteAsync(string objectName, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            _objects.Remove(objectName);
        }

        return Task.CompletedTask;
    }
}
