using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using RaftKv.Replication.Backup;

namespace RaftKv.Replication.Tests;

/// <summary>
/// <see cref="EtcdImport"/> on etcd histories given directly (the bbolt side is BboltReaderTests' and the E2E
/// EtcdMigrationTests'): the revision is etcd's recovery rule (the highest in the bucket, at least the compact
/// revision), live keys and leases are counted, and a history out of order or touching RaftKv's reserved keys is
/// refused with nothing left behind.
/// </summary>
public sealed class EtcdImportTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "raftkv-etcd-import-" + Guid.NewGuid().ToString("N"));

    private static EtcdChange Put(long rev, long sub, string key, long create, long version, long lease = 0)
        => new(rev, sub, false, Encoding.UTF8.GetBytes(key), Encoding.UTF8.GetBytes($"v{rev}"), create, version, lease);

    private static EtcdChange Del(long rev, long sub, string key) => new(rev, sub, true, Encoding.UTF8.GetBytes(key), [], 0, 0, 0);

    [Fact]
    public async Task ImportsRevisionsLiveKeysAndLeases()
    {
        EtcdChange[] history = [Put(2, 0, "a", 2, 1), Put(3, 0, "b", 3, 1, lease: 100), Put(4, 0, "a", 2, 2), Put(4, 1, "c", 4, 1), Del(5, 0, "c"), Put(6, 0, "a", 2, 3)];
        var r = await EtcdImport.RestoreAsync(history, 4, [(100, 60), (200, 30)], Path.Combine(_root, "one"), 5, NullLoggerFactory.Instance, null);
        Assert.Equal((6L, 4L, 2), (r.Restore.Revision, r.Restore.CompactRevision, r.Restore.Leases));
        Assert.Equal((6L, 2L), (r.Changes, r.LiveKeys));
        Assert.Equal(5UL, ClusterIdFile.TryRead(Path.Combine(_root, "one")));

        var compactedPast = await EtcdImport.RestoreAsync(history[..3], 9, [], Path.Combine(_root, "two"), 5, NullLoggerFactory.Instance, null);
        Assert.Equal((9L, 9L), (compactedPast.Restore.Revision, compactedPast.Restore.CompactRevision)); // etcd: currentRev = max(last, compact)

        var empty = await EtcdImport.RestoreAsync([], 0, [], Path.Combine(_root, "three"), 5, NullLoggerFactory.Instance, null);
        Assert.Equal((1L, 0L, 0L), (empty.Restore.Revision, empty.Restore.CompactRevision, empty.LiveKeys)); // etcd's initial revision
    }

    [Fact]
    public async Task RefusesAHistoryOutOfOrderOrInTheReservedKeySpace()
    {
        var outOfOrder = Path.Combine(_root, "order");
        var e = await Assert.ThrowsAsync<SnapshotFileException>(() => EtcdImport.RestoreAsync([Put(3, 0, "a", 3, 1), Put(2, 0, "b", 2, 1)], 0, [], outOfOrder, 1, NullLoggerFactory.Instance, null));
        Assert.Equal(SnapshotFileError.Corrupt, e.Error);
        Assert.False(Directory.Exists(outOfOrder), "a refused import leaves nothing");

        var reserved = Path.Combine(_root, "reserved");
        e = await Assert.ThrowsAsync<SnapshotFileException>(() => EtcdImport.RestoreAsync([new EtcdChange(2, 0, false, [0x00, 0xFF, (byte)'x'], [], 2, 1, 0)], 0, [], reserved, 1, NullLoggerFactory.Instance, null));
        Assert.Equal(SnapshotFileError.Corrupt, e.Error);
        Assert.False(Directory.Exists(reserved), "a refused import leaves nothing");
    }

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }
}
