namespace RaftKv.Tiering;

/// <summary>
/// An S3-compatible object store. All members are thread-safe. Failures to reach the store
/// surface as <see cref="RaftKv.Storage.RemoteTierUnavailableException"/> after retries.
/// </summary>
public interface IObjectStore
{
    /// <summary>The bucket this store reads and writes.</summary>
    string Bucket { get; }

    /// <summary>Creates the bucket if it does not exist.</summary>
    Task EnsureBucketAsync(CancellationToken cancellationToken = default);

    /// <summary>Uploads a local file (multipart above the part size). MUST return only once the
    /// object is stored and its length and CRC32C (stored as metadata) have been verified.</summary>
    Task PutFileAsync(string key, string localPath, CancellationToken cancellationToken = default);

    /// <summary>Reads exactly <c>buffer.Length</c> bytes at <paramref name="offset"/> (ranged GET).</summary>
    Task ReadRangeAsync(string key, long offset, Memory<byte> buffer, CancellationToken cancellationToken = default);

    /// <summary>Object size and stored CRC32C, or null when it does not exist.</summary>
    Task<ObjectInfo?> HeadAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>Deletes an object; a missing one is not an error.</summary>
    Task DeleteAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>Server-side copy of <paramref name="sourceKey"/> in <paramref name="sourceBucket"/> (same endpoint and
    /// credentials) to <paramref name="key"/> in this store's bucket, metadata included (so the CRC32C travels with
    /// it). MUST return only once the copy is stored and its length and CRC32C match the source's.</summary>
    Task CopyFromAsync(string sourceBucket, string sourceKey, string key, CancellationToken cancellationToken = default);

    /// <summary>Every object under <paramref name="prefix"/>.</summary>
    Task<IReadOnlyList<ObjectInfo>> ListAsync(string prefix, CancellationToken cancellationToken = default);
}
