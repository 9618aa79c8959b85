using System.Text;
using RaftKv.Replication.Api;
using RaftKv.Storage;

namespace RaftKv.Replication.Tests;

/// <summary>
/// A node whose Raft log is corrupt refuses to start, and the procedure in docs/operations.md ("Rebuilding
/// a node whose log is corrupt") brings it back from its peers.
/// </summary>
[Collection("cluster")]
public sealed class CorruptLogRebuildTests
{
    private static byte[] B(string s) => Encoding.UTF8.GetBytes(s);

    [Fact]
    public async Task NodeWithACorruptLogRefusesToStartAndIsRebuiltFromItsPeers()
    {
        await using var c = await TestCluster.StartAsync(3);
        var leader = await c.WaitForLeaderAsync();
        for (var i = 0; i < 200; i++)
        {
            await c.PutAsync($"k{i:D3}", new string('v', 100));
        }

        var victim = c.Running.First(n => n != leader).NodeId;
        await c.StopNodeAsync(victim);

        // A flipped byte in the middle of the data of the victim's fullest log segment (written, fsynced, acknowledged).
        // Segments are preallocated (RAFT_LOG_PREALLOCATE): the data ends at the last non-zero byte, zeros follow.
        var (segment, bytes) = Directory.GetFiles(Path.Combine(c.DataDir(victim), "log"), "*.seg")
            .Select(f => (Path: f, Bytes: File.ReadAllBytes(f)))
            .MaxBy(f => Array.FindLastIndex(f.Bytes, b => b != 0));
        var dataEnd = Array.FindLastIndex(bytes, b => b != 0) + 1;
        Assert.True(dataEnd < bytes.Length, "the segment is preallocated: zeros follow its data");
        bytes[dataEnd / 2] ^= 0xFF;
        await File.WriteAllBytesAsync(segment, bytes);

        var e = await Assert.ThrowsAsync<StorageCorruptionException>(() => c.StartNodeAsync(victim));
        Assert.Equal(segment, e.FilePath);
        Assert.NotNull(e.Offset);

        // The procedure: remove the member (through a quorum), move its data aside, start it empty with
        // the same NODE_ID and PEERS, add it back; it catches up from the leader by a snapshot.
        await c.WriteAsync(KvTxn.Single(KvOp.Put(B("while-down"), B("x"))));
        foreach (var n in c.Running)
        {
            await n.FlushAsync(); // a snapshot, and the leader's log compacted: the rebuilt node needs a snapshot
        }

        leader = await c.WaitForLeaderAsync();
        await leader.RemoveMemberAsync(victim);
        Directory.Move(c.DataDir(victim), c.DataDir(victim) + ".corrupt");
        await c.StartNodeAsync(victim);
        await c.AddMemberAsync(new MemberInfo(victim, c.RaftAddress(victim), string.Empty, string.Empty, false, false, true));
        await c.PutAsync("after-rebuild", "y");

        var rebuilt = c.Nodes[victim]!;
        await Eventually.TrueAsync(async () => await rebuilt.GetAsync(B("after-rebuild"), ReadConsistency.Serializable) is not null, TimeSpan.FromSeconds(60), "the rebuilt node has the data");
        await Eventually.TrueAsync(() => c.Running.All(n => n.GetStatus().Members.Count == 3), TimeSpan.FromSeconds(30), "every node sees three members again");
        await c.AssertReplicasIdenticalAsync();
        Assert.NotNull(await rebuilt.GetAsync(B("k000"), ReadConsistency.Serializable));
        Assert.True(rebuilt.GetStatus().SnapshotsInstalled >= 1, "the rebuilt node caught up by installing a snapshot");
    }
}
