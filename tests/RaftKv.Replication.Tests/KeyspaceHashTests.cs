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
    private const uint PinnedAtPast = 3422366924;
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
    }

    /// <summary>The former algorithm (EtcdMaintenanceService.HashAtAsync before the streamed pass): CRC-32 over
    /// every live key in key order (key, value, create, mod, version, lease as little-endian int64), paged by
    /// linearizable ranges of 1,000 keys at the first page's revision.</summary>
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
            revision = header = page.Revision;
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
