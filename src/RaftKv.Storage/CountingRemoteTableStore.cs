namespace RaftKv.Storage;

/// <summary>The store's view of its <see cref="IRemoteTableStore"/>: counts the ranged reads (one
/// object-store GET each) and bytes the engine asks for, for <see cref="StoreStats.ObjectReadRequests"/>
/// and <see cref="StoreStats.ObjectReadBytes"/>. Uploads and deletes pass through uncounted.</summary>
internal sealed class CountingRemoteTableStore(IRemoteTableStore inner) : IRemoteTableStore
{
    private long _reads;
    private long _bytes;

    public long Reads => Interlocked.Read(ref _reads);

    public long Bytes => Interlocked.Read(ref _bytes);

    public Task UploadAsync(string objectName, string localPath, CancellationToken cancellationToken = default)
        => inner.UploadAsync(objectName, localPath, cancellationToken);

    public ValueTask ReadAsync(string objectName, long offset, Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _reads);
        Interlocked.Add(ref _bytes, buffer.Length);
        return inner.ReadAsync(objectName, offset, buffer, cancellationToken);
    }

    public Task DeleteAsync(string objectName, CancellationToken cancellationToken = default)
        => inner.DeleteAsync(objectName, cancellationToken);
}
