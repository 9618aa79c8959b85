using RaftKv.Storage;
using Xunit.Abstractions;

namespace RaftKv.Tiering.Tests;

[Collection("rgw")]
public sealed class S3ObjectStoreTests(RgwFixture rgw, ITestOutputHelper output)
{
    [Fact]
    public async Task SmallAndMultipartObjectsRoundTripWithRangedReads()
    {
        var seed = Environment.TickCount;
        output.WriteLine($"seed = {seed}");
        var rng = new Random(seed);
        using var store = new S3ObjectStore(rgw.Options("roundtrip"));
        await store.EnsureBucketAsync();
        await store.EnsureBucketAsync(); // idempotent

        var dir = Directory.CreateTempSubdirectory("raftkv-s3-");
        try
        {
            var small = new byte[10_000];
            rng.NextBytes(small);
            var smallPath = Path.Combine(dir.FullName, "small");
            await File.WriteAllBytesAsync(smallPath, small);
            await store.PutFileAsync("t/small", smallPath);

            var large = new byte[(20 << 20) + 12345]; // above the multipart threshold
            rng.NextBytes(large);
            var largePath = Path.Combine(dir.FullName, "large");
            await File.WriteAllBytesAsync(largePath, large);
            await store.PutFileAsync("t/large", largePath);

            var head = await store.HeadAsync("t/large");
            Assert.Equal(large.Length, head!.Size);
            Assert.Equal(await FileCrc.ComputeAsync(largePath, default), head.Crc32C);

            foreach (var (key, data) in new[] { ("t/small", small), ("t/large", large) })
            {
                for (var i = 0; i < 5; i++)
                {
                    var offset = rng.Next(data.Length - 100);
                    var length = rng.Next(1, Math.Min(70_000, data.Length - offset));
                    var buffer = new byte[length];
                    await store.ReadRangeAsync(key, offset, buffer);
                    Assert.Equal(data.AsSpan(offset, length).ToArray(), buffer);
                }
            }

            var listed = await store.ListAsync("t/");
            Assert.Equal(["t/large", "t/small"], listed.Select(o => o.Key).Order());
            await store.DeleteAsync("t/small");
            await store.DeleteAsync("t/small"); // missing is fine
            Assert.Null(await store.HeadAsync("t/small"));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task UnreachableStoreIsReportedAsUnavailable()
    {
        using var dead = new S3ObjectStore(rgw.Options("x") with { Endpoint = "http://127.0.0.1:1", MaxRetries = 1, RequestTimeout = TimeSpan.FromSeconds(3) });
        await Assert.ThrowsAsync<RemoteTierUnavailableException>(() => dead.ReadRangeAsync("k", 0, new byte[10]));
        await Assert.ThrowsAsync<RemoteTierUnavailableException>(() => dead.ListAsync(""));
    }
}
