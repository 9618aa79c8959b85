namespace RaftKv.Tiering.Tests;

/// <summary>Set-up shared by tests of an LSM over a fresh RGW bucket: a store directory and a bucket of their
/// own (created before the test, the directory deleted after it) and the S3 client.</summary>
public abstract class RgwStoreTest(RgwFixture rgw, string prefix) : IAsyncLifetime
{
    protected string Dir { get; } = Path.Combine(Path.GetTempPath(), $"raftkv-{prefix}-" + Guid.NewGuid().ToString("N"));

    protected string Bucket { get; } = $"{prefix}-" + Guid.NewGuid().ToString("N")[..12];

    protected S3ObjectStore S3 { get; private set; } = null!;

    protected RgwFixture Rgw => rgw;

    public async Task InitializeAsync()
    {
        S3 = new S3ObjectStore(rgw.Options(Bucket));
        await S3.EnsureBucketAsync();
    }

    public Task DisposeAsync()
    {
        S3.Dispose();
        try
        {
            Directory.Delete(Dir, recursive: true);
        }
        catch (IOException)
        {
        }

        return Task.CompletedTask;
    }
}
