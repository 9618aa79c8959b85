namespace RaftKv.Storage.Tables;

/// <summary>Blocks fetched by ranged reads of an archived table object.</summary>
public sealed class RemoteBlockSource(IRemoteTableStore store, string objectName) : IBlockSource
{
    public bool IsRemote => true;

    /// <summary>Always succeeds: an object needs no handle kept open, so reads need no pin.</summary>
    public bool TryAcquire() => true;

    public void Release()
    {
    }

    public string ObjectName => objectName;

    public async ValueTask<byte[]> ReadAsync(long offset, int length, CancellationToken cancellationToken)
    {
        var buffer = new byte[length];
        try
        {
            await store.ReadAsync(objectName, offset, buffer, cancellationToken).ConfigureAwait(false);
        }
        catch (RemoteTierUnavailableException)
        {
            throw;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw new RemoteTierUnavailableException($"cannot read archived table '{objectName}': {e.Message}", e);
        }

        return buffer;
    }

    public bool TryReadNow(long offset, Span<byte> destination) => false;

    public void Dispose()
    {
    }
}
