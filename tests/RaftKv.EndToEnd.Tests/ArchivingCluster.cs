using RaftKv.Tiering;
using RaftKv.Tiering.Tests;

namespace RaftKv.EndToEnd.Tests;

/// <summary>A <see cref="LocalCluster"/> whose nodes archive every flushed table to <c>bucket</c> (created here) on
/// the test's S3 server (Ceph RGW), started and ready.</summary>
internal static class ArchivingCluster
{
    /// <summary>A bucket name no other test uses.</summary>
    public static string NewBucket() => "e2e-" + Guid.NewGuid().ToString("N")[..10];

    public static async Task<LocalCluster> StartAsync(RgwFixture rgw, string bucket, int size, IReadOnlyDictionary<string, string>? extraEnv = null)
    {
        using (var s3 = new S3ObjectStore(rgw.Options(bucket)))
        {
            await s3.EnsureBucketAsync();
        }

        var env = new Dictionary<string, string>
        {
            ["S3_ENDPOINT"] = rgw.Endpoint,
            ["S3_BUCKET"] = bucket,
            ["S3_ACCESS_KEY"] = "testaccess",
            ["S3_SECRET_KEY"] = "testsecret123",
            ["DISK_MAX_SIZE_GB"] = "0.000000001", // ~1 byte: every flushed table is archived
        };
        foreach (var (k, v) in extraEnv ?? new Dictionary<string, string>())
        {
            env[k] = v;
        }

        var c = new LocalCluster(size, env);
        try
        {
            c.StartAll();
            await c.WaitForLeaderAsync();
            await c.WaitReadyAsync();
            return c;
        }
        catch
        {
            c.Dispose();
            throw;
        }
    }
}
