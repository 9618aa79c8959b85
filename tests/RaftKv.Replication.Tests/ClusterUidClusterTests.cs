using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using RaftKv.Replication.Api;
using RaftKv.Replication.Backup;

namespace RaftKv.Replication.Tests;

/// <summary>
/// The replicated cluster uid on real nodes (KvNode.ClusterUid.cs): the first leader proposes one, every member has the
/// same, it survives a leader change and reaches a member that catches up by a snapshot, it changes nothing etcd sees
/// (revision, HashKV, listings), and a restore from a checkpoint drops it so the restored cluster gets a new one.
/// </summary>
public sealed class ClusterUidClusterTests : IAsyncLifetime
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "raftkv-uid-" + Guid.NewGuid().ToString("N"));

    public Task InitializeAsync()
    {
        Directory.CreateDirectory(_root);
        return Task.CompletedTask;
    }

    public Task DisposeAsync()
    {
        Directory.Delete(_root, recursive: true);
        return Task.CompletedTask;
    }

    [Fact]
    public async Task EveryMemberHasTheLeadersUidThroughALeaderChangeAndASnapshotInstall()
    {
        await using var c = await TestCluster.StartAsync(3);
        var leader = await c.WaitForLeaderAsync();
        await Eventually.TrueAsync(() => c.Running.All(n => n.ClusterUid is not null) && c.Running.Select(n => n.ClusterUid).Distinct().Count() == 1, TimeSpan.FromSeconds(30), "every member applied the leader's cluster uid");
        var uid = leader.ClusterUid!;
        Assert.Matches("^[0-9a-f]{32}$", uid);

        // A member wiped and joined again catches up by a snapshot (the log below it is dropped): the uid comes with it.
        var victim = c.Running.First(n => !n.IsLeader).NodeId;
        await Eventually.TrueAsync(() => leader.GetStatus().Members.Any(m => m.Id == victim), TimeSpan.FromSeconds(30), "the leader knows the victim's id");
        await c.StopNodeAsync(victim);
        await c.OnLeaderAsync(async l =>
        {
            await l.RemoveMemberAsync(victim);
            return true;
        });
        c.WipeNode(victim);
        for (var i = 0; i < 50; i++)
        {
            await c.PutAsync($"k{i:D2}", "v");
        }

        foreach (var n in c.Running)
        {
            await n.FlushAsync(); // a snapshot past everything: the joining member is sent it
        }

        await c.StartNodeAsync(victim, joinExisting: true);
        var joined = c.Nodes[victim]!;
        await c.AddMemberAsync(new MemberInfo(victim, c.RaftAddress(victim), string.Empty, string.Empty, false, false, true));
        await Eventually.TrueAsync(async () => await joined.GetAsync(Encoding.UTF8.GetBytes("k49"), ReadConsistency.Serializable) is not null, TimeSpan.FromSeconds(60), "the joined member has the data");
        Assert.True(joined.GetStatus().SnapshotsInstalled >= 1, "the joined member installed a snapshot");
        Assert.Equal(uid, joined.ClusterUid);
        await Eventually.TrueAsync(() => !joined.IsJoining && joined.GetStatus().Role is "follower" or "leader", TimeSpan.FromSeconds(30), "the joined member left standby");
        await Eventually.TrueAsync(() => c.Running.All(n => n.GetStatus().Members.Count == 3), TimeSpan.FromSeconds(30), "every node sees three members");

        // A new leader keeps the uid (its state has one: it proposes none).
        var old = (await c.WaitForLeaderAsync()).NodeId;
        await c.StopNodeAsync(old);
        var next = await c.WaitForLeaderAsync(TimeSpan.FromSeconds(60));
        Assert.NotEqual(old, next.NodeId);
        await c.PutAsync("after", "1");
        await c.StartNodeAsync(old);
        await Eventually.TrueAsync(async () => await c.Nodes[old]!.GetAsync(Encoding.UTF8.GetBytes("after"), ReadConsistency.Serializable) is not null, TimeSpan.FromSeconds(60), "the old leader caught up");
        Assert.All(c.Running, n => Assert.Equal(uid, n.ClusterUid));
        await c.AssertReplicasIdenticalAsync();
    }

    [Fact]
    public async Task TheUidChangesNothingEtcdSeesAndARestoreDropsIt()
    {
        await using var a = await StartSingleAsync(Path.Combine(_root, "a"));
        await using var b = await StartSingleAsync(Path.Combine(_root, "b"));
        foreach (var n in new[] { a, b })
        {
            await Eventually.TrueAsync(() => n.ClusterUid is not null, TimeSpan.FromSeconds(30), "the single node proposed its cluster uid");
            await n.WriteAsync(KvTxn.Single(KvOp.Put(Encoding.UTF8.GetBytes("k"), Encoding.UTF8.GetBytes("v"))));
        }

        Assert.NotEqual(a.ClusterUid, b.ClusterUid); // random per cluster
        Assert.Equal(2, a.Revision); // the first write of a cluster: the uid took no revision
        Assert.Equal(a.Revision, b.Revision);
        var (hashA, _) = await KeyspaceHash.ComputeAsync(a, 0, ReadConsistency.Linearizable, CancellationToken.None);
        var (hashB, _) = await KeyspaceHash.ComputeAsync(b, 0, ReadConsistency.Linearizable, CancellationToken.None);
        Assert.Equal(hashA, hashB); // different uids, same HashKV
        Assert.Single(await a.RangeAsync(Array.Empty<byte>(), Array.Empty<byte>(), 0, ReadConsistency.Linearizable));

        // A restore builds a new cluster: the source's uid is not carried over; the restored node proposes its own.
        var source = a.ClusterUid;
        using var cp = await a.TakeBackupCheckpointAsync();
        var target = Path.Combine(_root, "restored");
        var r = await SnapshotRestore.RestoreCheckpointAsync(
            CheckpointCopy.From(cp.Directory),
            new SnapshotHeader(cp.RaftIndex, cp.RaftTerm, 0, 1, 0, false, 0, 0),
            target,
            9,
            NullLoggerFactory.Instance);
        Assert.Equal(cp.Revision, r.Revision);
        Assert.Equal(cp.RaftIndex + 1, r.RaftIndex); // the uid record dropped in one batch at the next index
        await using var restored = await StartSingleAsync(target);
        await Eventually.TrueAsync(() => restored.ClusterUid is not null, TimeSpan.FromSeconds(30), "the restored cluster proposed its own uid");
        Assert.NotEqual(source, restored.ClusterUid);
        Assert.Equal(cp.Revision, restored.Revision);
        Assert.Equal("v", Encoding.UTF8.GetString((await restored.GetAsync(Encoding.UTF8.GetBytes("k"), ReadConsistency.Linearizable))!.Value.Value.Span));
    }

    private static async Task<KvNode> StartSingleAsync(string dataDir)
    {
        var raft = $"127.0.0.1:{TestCluster.FreePort()}";
        var node = await KvNode.CreateAsync(
            new KvNodeOptions
            {
                NodeId = 1,
                DataDir = dataDir,
                RaftListen = raft,
                RaftAdvertise = raft,
                GrpcAdvertise = "127.0.0.1:1",
                HttpAdvertise = "127.0.0.1:2",
                OperationTimeout = TimeSpan.FromSeconds(3),
            },
            NullLoggerFactory.Instance);
        await node.StartAsync();
        await Eventually.TrueAsync(() => node.IsLeader, TimeSpan.FromSeconds(30), "the single node leads");
        return node;
    }
}
