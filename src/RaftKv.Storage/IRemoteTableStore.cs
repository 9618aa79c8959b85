namespace RaftKv.Storage;

/// <summary>
/// Where archived SSTables live (the L3 tier). Implemented outside Storage (RaftKv.Tiering adapts
/// its S3 <c>IObjectStore</c>); Storage only sees names, offsets and bytes.
/// </summary>
/// <remarks>All methods may run concurrently. Failures surface as <see cref="IOException"/>
/// (<see cref="RemoteTierUnavailableException"/> when the store cannot be reached).</remarks>
public interface IRemoteTableStore
{
    /// <summary>Uploads the local file as <paramref name="objectName"/>. MUST return only once the
    /// object is durable in the store and verified (length and CRC32C of the content).</summary>
    Task UploadAsync(string objectName, string localPath, CancellationToken cancellationToken = default);

    /// <summary>Reads exactly <c>buffer.Length</c> bytes at <paramref name="offset"/> of the object.</summary>
    ValueTask ReadAsync(string objectName, long offset, Memory<byte> buffer, CancellationToken cancellationToken = default);

    /// <summary>Deletes the object; deleting a missing object is not an error.</summary>
    Task DeleteAsync(string objectName, CancellationToken cancellationToken = default);
}
