using RaftKv.Storage;

namespace RaftKv.Tiering.Tests;

/// <summary>Routes to the live S3 store or to one pointing at a dead port (an outage), or fails right
/// after a successful upload (a crash between upload and manifest edit).</summary>
internal sealed class SwitchableTableStore(IRemoteTableStore live, IRemoteTableStore dead) : IRemoteTableStore
{
    public bool Down { get; set; }

    public bool CrashAfterUpload { get; set; }

    private IRemoteTableStore Current => Down ? dead : live;

    public async Task UploadAsync(string objectName, string localPath, CancellationToken cancellationToken = default)
    {
        await Current.UploadAsync(objectName, localPath, cancellationToken);
        if (CrashAfterUpload)
        {
            throw new IOException("simulated crash after the upload, before the manifest edit");
        }
    }

    public ValueTask ReadAsync(string objectName, long offset, Memory<byte> buffer, CancellationToken cancellationToken = default)
        => Current.ReadAsync(objectName, offset, buffer, cancellationToken);

    public Task DeleteAsync(string objectName, CancellationToken cancellationToken = default)
        => Current.DeleteAsync(objectName, cancellationToken);
}
