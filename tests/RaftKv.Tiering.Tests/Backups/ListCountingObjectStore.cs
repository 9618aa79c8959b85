namespace RaftKv.Tiering.Tests.Backups;

/// <summary>An object store that counts its listings (a scheduler reads the newest backup manifest by listing),
/// so a test can tell a scheduler tick happened without timing it.</summary>
internal sealed class ListCountingObjectStore(IObjectStore inner) : IObjectStore
{
    private int _lists;

    public int Lists => Volatile.Read(ref _lists);

    public string Bucket => inner.Bucket;

    public Task EnsureBucketAsync(CancellationToken cancellationToken = default) => inner.EnsureBucketAsync(cancellationToken);

    public Task PutFileAsync(string key, string localPath, CancellationToken cancellationToken = default) => inner.PutFileAsync(key, localPath, cancellationToken);

    public Task ReadRangeAsync(string key, long offset, Memory<byte> buffer, CancellationToken cancellationToken = default) => inner.ReadRangeAsync(key, offset, buffer, cancellationToken);

    public Task<ObjectInfo?> HeadAsync(string key, CancellationToken cancellationToken = default) => inner.HeadAsync(key, cancellationToken);

    public Task DeleteAsync(string key, CancellationToken cancellationToken = default) => inner.DeleteAsync(key, cancellationToken);

    public Task CopyFromAsync(string sourceBucket, string sourceKey, string key, CancellationToken cancellationToken = default) => inner.CopyFromAsync(sourceBucket, sourceKey, key, cancellationToken);

    public Task<IReadOnlyList<ObjectInfo>> ListAsync(string prefix, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _lists);
        return inner.ListAsync(prefix, cancellationToken);
    }
}
