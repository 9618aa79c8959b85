using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using RaftKv.Storage;
using RaftKv.Storage.Tables;

namespace RaftKv.Tiering.Tests;

/// <summary>
/// Cold reads against a real S3 server (Ceph RGW): a table archived with the object tier's codec
/// (Zstd, re-encoded as it is archived) is smaller in the bucket; a get that needs S3 costs exactly one
/// ranged GET of about one block (the index, bloom and keys file are local), its block is promoted into
/// the block cache so the next gets of that block cost none, and absent keys cost none.
/// </summary>
[Collection("rgw")]
public sealed class ColdReadTests(RgwFixture rgw) : RgwStoreTest(rgw, "cold")
{
    private const int BlockSize = 4096;
    private static byte[] B(string s) => Encoding.UTF8.GetBytes(s);

    private static byte[] Value(int i) => B($"{{\"id\":{i},\"user\":\"user-{i % 113}\",\"email\":\"user{i}@example.com\",\"roles\":[\"reader\",\"writer\"],\"bio\":\"lorem ipsum dolor sit amet, consectetur adipiscing elit\"}}");

    private Task<LsmStore> OpenAsync() => LsmStore.OpenAsync(new LsmOptions
    {
        Directory = Dir,
        RemoteStore = new ObjectStoreTableStore(S3),
        BackgroundWork = false,
        BlockSize = BlockSize,
        Compression = BlockCompression.None,
        RemoteCompression = BlockCompression.Zstd,
    });

    [Fact]
    public async Task AColdGetIsOneRangedGetAndItsBlockIsPromoted()
    {
        long localSize;
        await using (var store = await OpenAsync())
        {
            for (var i = 0; i < 5000; i += 2)
            {
                store.Apply(i + 1, [WriteOp.Put(B($"key{i:D6}"), Value(i))]);
            }

            await store.FlushAsync();
            localSize = store.ListTables().Single().SizeBytes;
            var archiver = new Archiver(store, S3, Rgw.Options(Bucket) with { DiskMaxBytes = 1 }, TimeProvider.System, NullLogger<Archiver>.Instance);
            Assert.Equal(1, (await archiver.RunOnceAsync()).TablesMigrated);
            var table = Assert.Single(store.ListTables());
            var head = await S3.HeadAsync(table.ObjectName!);
            Assert.Equal(table.SizeBytes, head!.Size);
            Assert.True(head.Size < localSize / 2, $"Zstd object {head.Size} bytes, local table {localSize}");
        }

        await using var cold = await OpenAsync(); // fresh process state: nothing cached
        var fetched = S3.BytesFetched;
        var hit = await cold.GetAsync(B("key002000"), 0);
        Assert.Equal(Tier.Object, hit!.Value.Tier);
        Assert.Equal(Value(2000), hit.Value.Value.ToArray());
        var s = cold.GetStats();
        Assert.Equal(1, s.ObjectReadRequests);
        Assert.Equal(1, s.CachePromotions);
        Assert.Equal(s.ObjectReadBytes, S3.BytesFetched - fetched);
        Assert.True(s.ObjectReadBytes <= BlockSize, $"{s.ObjectReadBytes} bytes fetched for one (compressed) block");

        Assert.Equal(Value(2002), (await cold.GetAsync(B("key002002"), 0))!.Value.Value.ToArray()); // same block
        for (var i = 1; i < 5000; i += 2)
        {
            Assert.Null(await cold.GetAsync(B($"key{i:D6}"), 0)); // absent: settled by the local bloom and keys file
        }

        Assert.Equal(1, cold.GetStats().ObjectReadRequests);
        Assert.Equal(2500, (await ScanCountAsync(cold)));
    }

    private static async Task<int> ScanCountAsync(LsmStore store)
    {
        var n = 0;
        await foreach (var e in store.ScanAsync(Array.Empty<byte>(), Array.Empty<byte>(), 0, 0))
        {
            Assert.Equal(Value(int.Parse(Encoding.UTF8.GetString(e.Key.Span)[3..], System.Globalization.CultureInfo.InvariantCulture)), e.Value.ToArray());
            n++;
        }

        return n;
    }
}
