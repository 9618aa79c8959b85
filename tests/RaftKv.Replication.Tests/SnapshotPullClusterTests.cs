using System.Text;
using RaftKv.Replication.Api;

namespace RaftKv.Replication.Tests;

/// <summary>
/// A follower that needs a snapshot too large for one Raft request (DotNext sends a snapshot in one InstallSnapshot that
/// must end within the Raft request timeout, half the election timeout: 150 ms here) pulls it from the leader's tail
/// stream (KvNode.SnapshotPull.cs) while the leader keeps writing and snapshotting. Before, such a follower retried the
/// transfer forever and never rejoined (a 700 MB store in the 64 KiB benchmark).
/// </summary>
public sealed class SnapshotPullClusterTests
{
    private static byte[] B(string s) => Encoding.UTF8.GetBytes(s);

    [Fact]
    public async Task AFollowerPullsASnapshotTooLargeForOneRaftRequestWhileTheLeaderKeepsWriting()
    {
        // Production's settings (every snapshot pulled) and a store far too large for one 150 ms request: about 24 MB of
        // 8 KiB values, kept in value files. With SnapshotPullAboveBytes = -1 (one request) this test times out.
        await using var c = await TestCluster.StartAsync(3);
        var leader = await c.WaitForLeaderAsync();
        await Eventually.TrueAsync(() => Task.FromResult(leader.SendsSnapshotReferences), TimeSpan.FromSeconds(30), "the leader knows every member can pull");
        var lagging = c.Running.First(n => n != leader).NodeId;
        await c.StopNodeAsync(lagging);
        var value = new string('v', 8192);
        for (var batch = 0; batch < 3000; batch += 30)
        {
            await Task.WhenAll(Enumerable.Range(batch, 30).Select(i => c.PutAsync($"big{i:D5}", value)));
        }

        foreach (var n in c.Running)
        {
            await n.FlushAsync(); // a snapshot past everything the stopped follower holds; the log is dropped up to it
        }

        // Writes and snapshots go on while the follower catches up: the pull must follow a moving leader.
        using var stop = new CancellationTokenSource();
        var written = 0;
        var writer = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                await c.PutAsync($"more{written:D5}", "x");
                if (++written % 100 == 0)
                {
                    await leader.FlushAsync(); // a new snapshot, and the log compacted again (pinned entries stay)
                }
            }
        });

        await c.StartNodeAsync(lagging);
        var follower = c.Nodes[lagging]!;
        await Eventually.TrueAsync(
            async () => written > 300 && await follower.GetAsync(B($"more{written - 50:D5}"), ReadConsistency.Serializable) is not null,
            TimeSpan.FromSeconds(120),
            "the restarted follower follows the writes");
        await stop.CancelAsync();
        await writer;

        // It needed the snapshot and pulled it. (It usually answers a reference too; not always: after a leader change the
        // new leader can replicate from its own log onto the entries pulled from the old one.)
        Assert.True(follower.PulledSnapshotsInstalled > 0, "the follower installed a pulled snapshot");
        Assert.NotNull(await follower.GetAsync(B("big02999"), ReadConsistency.Serializable));
        await c.AssertReplicasIdenticalAsync();
        Assert.Empty(Directory.GetFiles(c.DataDir(lagging), "snapshot-pull*"));

        // DotNext replicates to it again: a write the follower gets without any pull.
        var references = follower.SnapshotReferencesReached;
        await c.PutAsync("after", "y");
        await Eventually.TrueAsync(async () => await follower.GetAsync(B("after"), ReadConsistency.Serializable) is not null, TimeSpan.FromSeconds(30), "the follower gets a new write");
        Assert.Equal(references, follower.SnapshotReferencesReached);
    }
}
