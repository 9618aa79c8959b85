using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using RaftKv.Storage;
using RaftKv.Tiering.Backups;

namespace RaftKv.Tiering.Tests.Backups;

/// <summary>A real LSM store archiving to a fresh RGW bucket, and backups of its checkpoints into the same
/// bucket under <c>backups/</c> (as the server does by default).</summary>
internal sealed class BackupBench : IAsyncDisposable
{
    private readonly RgwFixture _rgw;
    private readonly string _root = Path.Combine(Path.GetTempPath(), "raftkv-backup-" + Guid.NewGuid().ToString("N"));
    private long _nextIndex = 1;

    private BackupBench(RgwFixture rgw, string bucket)
    {
        _rgw = rgw;
        Bucket = bucket;
        S3 = new S3ObjectStore(rgw.Options(bucket));
        Layout = new BackupLayout("backups/");
        Catalog = new BackupCatalog(S3, Layout);
        Writer = NewWriter();
        Directory.CreateDirectory(_root);
    }

    /// <summary>The cluster uid the bench's backups are tagged with (as a cluster's replicated uid).</summary>
    public const string ClusterUid = "0123456789abcdef0123456789abcdef";

    public string Bucket { get; }

    public S3ObjectStore S3 { get; }

    public BackupLayout Layout { get; }

    public BackupCatalog Catalog { get; }

    public BackupWriter Writer { get; }

    public LsmStore Store { get; private set; } = null!;

    public string Root => _root;

    /// <summary>A store in a fresh bucket; with <paramref name="blobMinBytes"/> &gt; 0 it keeps values at least that
    /// large in value files (key-value separation on).</summary>
    public static async Task<BackupBench> CreateAsync(RgwFixture rgw, int blobMinBytes = 0)
    {
        var bench = new BackupBench(rgw, "bk-" + Guid.NewGuid().ToString("N")[..12]);
        await bench.S3.EnsureBucketAsync();
        bench.Store = await LsmStore.OpenAsync(new LsmOptions { Directory = Path.Combine(bench._root, "lsm"), RemoteStore = new ObjectStoreTableStore(bench.S3), BackgroundWork = false, BlockSize = 1024, BlobMinBytes = blobMinBytes });
        bench.Store.SeparateValues = blobMinBytes > 0;
        return bench;
    }

    public BackupWriter NewWriter() => new(S3, S3, Layout);

    /// <summary>Writes <paramref name="count"/> new keys (values of about <paramref name="padding"/> bytes) and flushes
    /// them: one new table.</summary>
    public async Task FillAsync(int count, int padding = 64)
    {
        for (var i = 0; i < count; i++, _nextIndex++)
        {
            Store.Apply(_nextIndex, [WriteOp.Put(B($"key{_nextIndex:D6}"), B($"value-{_nextIndex}-{new string('x', padding)}"))]);
        }

        await Store.FlushAsync();
    }

    /// <summary>Archives every local table (the archive tier, objects under nodes/1/).</summary>
    public Task ArchiveAllAsync() => new Archiver(Store, S3, _rgw.Options(Bucket) with { DiskMaxBytes = 1 }, TimeProvider.System, NullLogger<Archiver>.Instance).RunOnceAsync();

    /// <summary>One backup of a fresh checkpoint of the store.</summary>
    public async Task<BackupManifest> BackupAsync(BackupWriter? writer = null)
    {
        var dir = Path.Combine(_root, "cp-" + Guid.NewGuid().ToString("N"));
        var index = await Store.CheckpointAsync(dir);
        using var source = new BackupSource(dir, index, 1, index, 0, 1, 0xabcdef, [new BackupMember(1, "127.0.0.1:7000")], DateTimeOffset.UtcNow, () => Directory.Delete(dir, recursive: true)) { ClusterUid = ClusterUid };
        return await (writer ?? Writer).WriteAsync(source, () => true, CancellationToken.None);
    }

    public async Task<HashSet<string>> KeysAsync(string prefix) => [.. (await S3.ListAsync(prefix)).Select(o => o.Key)];

    /// <summary>Replaces an object's content (a damaged or tampered object).</summary>
    public async Task OverwriteAsync(string key, byte[] data)
    {
        var tmp = Path.Combine(_root, "overwrite-" + Guid.NewGuid().ToString("N"));
        await File.WriteAllBytesAsync(tmp, data);
        await S3.PutFileAsync(key, tmp);
        File.Delete(tmp);
    }

    public async Task<byte[]> ReadAsync(string key)
    {
        var head = await S3.HeadAsync(key);
        var data = new byte[head!.Size];
        await S3.ReadRangeAsync(key, 0, data);
        return data;
    }

    public static byte[] B(string s) => Encoding.UTF8.GetBytes(s);

    public async ValueTask DisposeAsync()
    {
        await Store.DisposeAsync();
        S3.Dispose();
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
