using RaftKv.Storage;

namespace RaftKv.Tiering;

/// <summary>Adapts an <see cref="IObjectStore"/> to the engine's <see cref="IRemoteTableStore"/> seam.
/// Object names given by the engine are used as keys unchanged (the archiver already prefixes them per node).</summary>
public sealed class ObjectStoreTableStore(IObjectStore store) : IRemoteTableStore
{
    public Task UploadAsync(string objectName, string localPath, CancellationToken cancellationToken = default)
        => store.PutFileAsync(objectName, localPath, cancellationToken);

    public async ValueTask ReadAsync(string objectName, long offset, Memory<byte> buffer, CancellationToken cancellationToken = default)
        => await store.ReadRangeAsync(objectName, offset, buffer, cancellationToken).ConfigureAwait(false);

    public Task DeleteAsync(string objectName, CancellationToken cancellationToken = default)
        => store.DeleteAsync(objectName, cancellationToken);
}
