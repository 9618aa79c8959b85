using Google.Protobuf;
using Grpc.Net.Client;
using RaftKv.EndToEnd.Tests.FaultInjection;
using V3 = RaftKv.Protocol.Etcd;

namespace RaftKv.EndToEnd.Tests.Etcd;

/// <summary>
/// A linearizable Range over an empty interval (range_end before key: etcd answers it with no keys after the revision
/// checks) on a lagging follower waits for the read barrier like any linearizable read: asked at a revision the cluster
/// has committed but the follower has not applied yet, it answers once the follower has caught up — not "required
/// revision is a future revision" from the follower's own applied revision, and with a header revision that covers the
/// write. The barrier is the pipeline's (Pipeline/ReadFence runs it for every linearizable Range before the handler,
/// whose empty-range shortcut then reads the local revision). The follower lags because its Raft port drops packets
/// (iptables, root) until the test lifts the block.
/// </summary>
public sealed class EtcdFollowerEmptyRangeTests
{
    [Fact]
    public async Task AnEmptyLinearizableRangeOnALaggingFollowerWaitsForTheBarrier()
    {
        using var c = new LocalCluster(3);
        c.StartAll();
        var leader = await c.WaitForLeaderAsync();
        await c.WaitReadyAsync();
        var follower = c.Nodes.First(n => n != leader);
        using var toLeader = GrpcChannel.ForAddress("http://" + leader.Grpc);
        using var toFollower = GrpcChannel.ForAddress("http://" + follower.Grpc);
        var kvLeader = new V3.KV.KVClient(toLeader);
        var kvFollower = new V3.KV.KVClient(toFollower);
        await kvLeader.PutAsync(Put("e", "1"));
        await Eventually.TrueAsync(async () => (await kvFollower.RangeAsync(new V3.RangeRequest { Key = B("e"), Serializable = true })).Kvs.Count == 1, TimeSpan.FromSeconds(30), "the follower applies the first put");

        using var block = LoopbackPortBlock.Start(follower.RaftPort);
        var revision = (await kvLeader.PutAsync(Put("e", "2"))).Header.Revision; // committed by the leader and the other follower
        var lagging = await kvFollower.RangeAsync(new V3.RangeRequest { Key = B("e"), Serializable = true });
        Assert.True(lagging.Header.Revision < revision, $"the follower lags (at {lagging.Header.Revision}, the put is {revision})");

        var empty = kvFollower.RangeAsync(new V3.RangeRequest { Key = B("z"), RangeEnd = B("a"), Revision = revision }).ResponseAsync;
        block.Lift();
        var answer = await empty;
        Assert.Empty(answer.Kvs);
        Assert.True(answer.Header.Revision >= revision, $"header revision {answer.Header.Revision} covers the put at {revision}");
    }

    private static ByteString B(string s) => ByteString.CopyFromUtf8(s);

    private static V3.PutRequest Put(string key, string value) => new() { Key = B(key), Value = B(value) };
}
