using System.Buffers.Binary;
using System.Text;
using RaftKv.Replication.Api;

namespace RaftKv.Replication.Tests;

/// <summary>The key-space hash (etcd's Maintenance.HashKV / Hash on RaftKv): its output is pinned on a known
/// data set, so the format cannot drift (operators compare members' hashes across upgrades), and it is the
/// same as the former paged algorithm (<see cref="PagedReferenceAsync"/>, kept here as the reference).</summary>
[Collection("cluster")]
public sealed class KeyspaceHashTests
{
    // Pinned from the paged algorithm (the server's HashKV before the streamed pass) on PopulateAsync's data set.
    // At the past revision the former server answered 3422366924: its pages after the first read the current
    // revision (a bug, see PagedReferenceAsync); 2684728495 is every key at the past revision.
    private const uint PinnedAtPast = 2684728495;
    private const uint PinnedAtCurrent = 112134252;

    private static byte[] B(string s) => Encoding.UTF8.GetBytes(s);

    /// <summary>2,500 keys (more than one 1,000-key page of the former algorithm) in 25 txns, then overwrites,
    /// deletes and leased puts; returns the revision before the second half of the changes.</summary>
    internal static async Task<long> PopulateAsync(KvNode n)
    {
        await n.LeaseGrantAsync(77, 3600);
        for (var batch = 0; batch < 25; batch++)
        {
            var ops = Enumerable.Range(batch * 100, 100).Select(i => KvOp.Put(B($"k/{i:D4}"), B($"value-{i}"))).ToList();
            await n.WriteAsync(new KvTxn([], ops, []));
        }

        await n.WriteAsync(new KvTxn([], Enumerable.Range(0, 50).Select(i => KvOp.Put(B($"k/{i * 7:D4}"), B($"again-{i}"))).ToList(), []));
        await n.WriteAsync(KvTxn.Single(KvOp.DeleteRange(B("k/1000"), B("k/1100"))));
        var past = n.Revision;
        await n.WriteAsync(new KvTxn([], Enumerable.Range(0, 20).Select(i => new KvOp(KvOpKind.Put, B($"k/{i * 11:D4}"), B($"leased-{i}"), Lease: 77)).ToList(), []));
        await n.WriteAsync(KvTxn.Single(KvOp.Delete(B("k/2499"))));
        await n.WriteAsync(KvTxn.Single(KvOp.Put(B("z"), [0, 1, 2, 255])));
        return past;
    }

    [Fact]
    public async Task HashOfAKnownDataSetIsPinned()
    {
        await using var c = await TestCluster.StartAsync(1);
        var n = await c.WaitForLeaderAsync();
        var past = await PopulateAsync(n);
        var (atPast, _) = await PagedReferenceAsync(n, past);
        var (atCurrent, revision) = await PagedReferenceAsync(n, 0);
        Assert.Equal(n.Revision, revision);
        Assert.Equal((PinnedAtPast, PinnedAtCurrent), (atPast, atCurrent));

        // The streamed pass answers the same, and the header revision is the current one (etcd's).
        Assert.Equal((PinnedAtPast, revision), await KeyspaceHash.ComputeAsync(n, past, ReadConsistency.Linearizable, CancellationToken.None));
        Assert.Equal((PinnedAtCurrent, revision), await KeyspaceHash.ComputeAsync(n, 0, ReadConsistency.Serializable, CancellationToken.None));
        var read = await n.ReadKeyspaceAsync(past, ReadConsistency.Linearizable);
        Assert.Equal((past, revision), (read.Revision, read.CurrentRevision));
    }

    [Fact]
    public async Task StreamedHashEqualsThePagedOneAtEveryRevisionAndRefusesBadOnes()
    {
        await using var c = await TestCluster.StartAsync(1);
        var n = await c.WaitForLeaderAsync();
        await PopulateAsync(n);
        await n.CompactRevisionAsync(5, physical: true);
        for (var rev = 5L; rev <= n.Revision; rev++)
        {
            var (expected, _) = await PagedReferenceAsync(n, rev);
            var (got, _) = await KeyspaceHash.ComputeAsync(n, rev, ReadConsistency.Linearizable, CancellationToken.None);
            Assert.True(expected == got, $"revision {rev}: paged {expected}, streamed {got}");
        }

        await Assert.ThrowsAsync<RevisionCompactedException>(() => n.ReadKeyspaceAsync(4, ReadConsistency.Linearizable));
        await Assert.ThrowsAsync<FutureRevisionException>(() => n.ReadKeyspaceAsync(n.Revision + 1, ReadConsistency.Linearizable));
        await Assert.ThrowsAsync<ArgumentException>(() => n.ReadKeyspaceAsync(-1, ReadConsistency.Linearizable));
    }

    /// <summary>The former algorithm (EtcdMaintenanceService.HashAtAsync before the streamed pass): CRC-32 over
    /// every live key in key order (key, value, create, mod, version, lease as little-endian int64), paged by
    /// linearizable ranges of 1,000 keys at the revision (the former code moved to the header revision after the
    /// first page, which mixed two revisions for a past one with more than 1,000 keys; fixed here).</summary>
    internal static async Task<(uint Hash, long Revision)> PagedReferenceAsync(KvNode node, long revision)
    {
        const int Page = 1000;
        var crc = new System.IO.Hashing.Crc32();
        byte[] from = [0];
        var header = 0L;
        var meta = new byte[32];
        while (true)
        {
            var page = await node.RangeAsync(new RangeRequest(from, [0], Limit: Page, Revision: revision), ReadConsistency.Linearizable);
            header = page.Revision;
            revision = revision == 0 ? header : revision; // the former code read pages 2.. at the header revision: wrong for a past one
            foreach (var kv in page.Kvs)
            {
                crc.Append(kv.Key.Span);
                crc.Append(kv.Value.Span);
                BinaryPrimitives.WriteInt64LittleEndian(meta, kv.CreateRevision);
                BinaryPrimitives.WriteInt64LittleEndian(meta.AsSpan(8), kv.ModRevision);
                BinaryPrimitives.WriteInt64LittleEndian(meta.AsSpan(16), kv.Version);
                BinaryPrimitives.WriteInt64LittleEndian(meta.AsSpan(24), kv.Lease);
                crc.Append(meta);
            }

            if (!page.More || page.Kvs.Count == 0)
            {
                break;
            }

            from = [.. page.Kvs[^1].Key.Span, 0];
        }

        return (crc.GetCurrentHashAsUInt32(), header);
    }
}
