using System.Text;
using RaftKv.Replication.Api;

namespace RaftKv.Replication.Tests;

/// <summary><see cref="TxnEtcdCompatTests"/> through <see cref="KvNode.WriteAsync"/> on a one-node cluster: the node no
/// longer refuses these txns, and it completes a range's history read after the apply (<c>KvNode.Resolve.cs</c>).</summary>
[Collection("cluster")]
public sealed class TxnEtcdCompatNodeTests
{
    private static byte[] B(string s) => Encoding.UTF8.GetBytes(s);

    private static string S(ReadOnlyMemory<byte> b) => Encoding.UTF8.GetString(b.Span);

    private static KvOp RangeAt(string key, string? end, long revision) => KvOp.RangeRead(new RangeRequest(B(key), end is null ? null : B(end), Revision: revision));

    [Fact]
    public async Task TheNodeAnswersHistoryReadsBackwardsDeletesAndCompares()
    {
        await using var c = await TestCluster.StartAsync(1);
        var n = await c.WaitForLeaderAsync();
        var first = await n.WriteAsync(KvTxn.Single(KvOp.Put(B("k"), B("v1"))));
        await n.WriteAsync(KvTxn.Single(KvOp.Put(B("k"), B("v2"))));

        var txn = new KvTxn(
            [new KvCompare(B("k"), CompareTarget.Version, CompareOp.Equal, 0, RangeEnd: B("a"))],
            [new KvOp(KvOpKind.DeleteRange, B("k"), RangeEnd: B("a")), KvOp.Put(B("k"), B("v3")), RangeAt("k", null, first.Revision)],
            []);
        var r = await n.WriteAsync(txn);
        Assert.True(r.Succeeded);
        Assert.Equal(0, r.Results[0].Deleted);
        Assert.Equal(["k=v1"], r.Results[2].Range!.Kvs.Select(kv => $"{S(kv.Key)}={S(kv.Value)}"));
        Assert.Equal(r.Revision, r.Results[2].Range!.Revision);
        await Assert.ThrowsAsync<FutureRevisionException>(() => n.WriteAsync(new KvTxn([], [KvOp.Put(B("k"), B("v4")), RangeAt("k", null, r.Revision + 1)], [])));
    }
}
