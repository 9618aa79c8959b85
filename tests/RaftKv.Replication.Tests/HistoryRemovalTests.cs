using System.Text;
using RaftKv.Replication.Api;

namespace RaftKv.Replication.Tests;

/// <summary>Physical removal of compacted MVCC history: after Compact(revision) with physical = true (flush, then LSM
/// compactions through <c>HistoryCompactionFilter</c>), the store's disk bytes shrink to about one version per key,
/// reads at and above the compact revision are unchanged, and the reduction survives a restart.</summary>
[Collection("cluster")]
public sealed class HistoryRemovalTests
{
    private static byte[] B(string s) => Encoding.UTF8.GetBytes(s);

    [Fact]
    public async Task CompactedHistoryLeavesTheDisk()
    {
        const int Keys = 8;
        const int Versions = 150;
        var value = new string('v', 1000);
        await using var c = await TestCluster.StartAsync(1);
        var n = await c.WaitForLeaderAsync();
        for (var v = 0; v < Versions; v++)
        {
            var ops = Enumerable.Range(0, Keys).Select(k => KvOp.Put(B($"h/{k}"), B($"{v}:{value}"))).ToList();
            await n.WriteAsync(new KvTxn([], ops, []));
        }

        await n.FlushAsync();
        var before = n.GetStoreStats().DiskBytes;
        Assert.True(before > Keys * Versions * 1000L, $"every version is on disk ({before} bytes)");
        var middle = n.Revision - 10;
        var atMiddle = await n.RangeAsync(new RangeRequest(B("h/"), B("h0"), Revision: middle), ReadConsistency.Linearizable);

        await n.CompactRevisionAsync(middle, physical: true);
        var after = n.GetStoreStats().DiskBytes;
        Assert.True(after * 5 < before, $"compacted history left the disk: {before} -> {after} bytes");

        // Reads at the compact revision and at the current one are unchanged.
        var again = await n.RangeAsync(new RangeRequest(B("h/"), B("h0"), Revision: middle), ReadConsistency.Linearizable);
        Assert.Equal(atMiddle.Kvs.Select(kv => (Encoding.UTF8.GetString(kv.Value.Span), kv.ModRevision, kv.Version)), again.Kvs.Select(kv => (Encoding.UTF8.GetString(kv.Value.Span), kv.ModRevision, kv.Version)));
        var current = await n.RangeAsync(new RangeRequest(B("h/"), B("h0")), ReadConsistency.Linearizable);
        Assert.All(current.Kvs, kv => Assert.StartsWith($"{Versions - 1}:", Encoding.UTF8.GetString(kv.Value.Span), StringComparison.Ordinal));
        Assert.All(current.Kvs, kv => Assert.Equal(Versions, kv.Version));

        await c.StopNodeAsync(1);
        await c.StartNodeAsync(1);
        n = await c.WaitForLeaderAsync();
        Assert.True(n.GetStoreStats().DiskBytes * 5 < before, "the history stays gone after a restart");
        Assert.Equal(middle, n.CompactRevision);
    }
}
