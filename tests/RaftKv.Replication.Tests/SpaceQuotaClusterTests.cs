using System.Text;
using RaftKv.Replication.Api;

namespace RaftKv.Replication.Tests;

/// <summary>
/// QUOTA_BACKEND_BYTES on a three-node cluster: every member whose local store passes the quota raises
/// its own NOSPACE alarm through Raft (followers through the leader), every member lists them, writes
/// that add data are refused with <see cref="NoSpaceException"/> while reads, deletes and compaction
/// work; after compaction, defragmentation and disarming, writes work again, and the replicas are identical.
/// </summary>
public sealed class SpaceQuotaClusterTests
{
    private const long Quota = 64 << 10;
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    private static byte[] B(string s) => Encoding.UTF8.GetBytes(s);

    [Fact]
    public async Task PastTheQuotaEveryMemberRaisesNoSpaceAndWritesResumeAfterCompactDefragDisarm()
    {
        await using var c = await TestCluster.StartAsync(3, quotaBytes: Quota);
        await c.WaitForLeaderAsync();
        await Eventually.TrueAsync(() => c.Running.All(n => n.GetStatus().Members.All(m => m.Id > 0)), Deadline, "every member knows the others' metadata");

        // The same key over and over: the history fills the store.
        var value = new string('v', 1024);
        var acked = 0;
        NoSpaceException? refused = null;
        for (var i = 0; i < 2000 && refused is null; i++)
        {
            try
            {
                // Through whichever member leads now, retried across a leader change (a loaded machine can
                // hold an election mid-loop); a retried put writes the same value again, harmlessly.
                await c.WriteAsync(KvTxn.Single(KvOp.Put(B("k"), B($"{i:D5}{value}"))));
                acked++;
            }
            catch (NoSpaceException e)
            {
                refused = e;
            }
        }

        Assert.NotNull(refused);
        Assert.Contains("database space exceeded", refused!.Message, StringComparison.Ordinal);
        await Eventually.TrueAsync(
            () => c.Running.All(n => n.Alarms.Count(a => a.Alarm == AlarmType.NoSpace) == 3),
            Deadline,
            "every member lists a NOSPACE alarm for each of the three members (followers raise theirs through the leader)");

        // Refused: puts and lease grants, on every path. Allowed: reads, deletes, compaction.
        await Assert.ThrowsAsync<NoSpaceException>(() => c.WriteAsync(KvTxn.Single(KvOp.Put(B("other"), B("x")))));
        await Assert.ThrowsAsync<NoSpaceException>(() => c.OnLeaderAsync(l => l.LeaseGrantAsync(0, 60)));
        var read = await c.OnLeaderAsync(l => l.RangeAsync(new RangeRequest(B("k")), ReadConsistency.Linearizable));
        Assert.Equal($"{acked - 1:D5}{value}", Encoding.UTF8.GetString(Assert.Single(read.Kvs).Value.Span));
        var deleted = await c.WriteAsync(KvTxn.Single(KvOp.Delete(B("k"))));
        Assert.Equal(read.Revision + 1, deleted.Revision);
        var compactTo = deleted.Revision;
        await c.OnLeaderAsync(l => l.CompactRevisionAsync(compactTo, physical: false));
        await Eventually.TrueAsync(() => c.Running.All(n => n.CompactRevision == compactTo), Deadline, "every member applied the compaction");

        // Defragment every member: its store drops below the quota, its space problem clears.
        foreach (var n in c.Running)
        {
            await n.CompactAsync();
        }

        await Eventually.TrueAsync(
            () => c.Running.All(n => n.SpaceProblem is null),
            Deadline,
            "every member is below its quota again: " + string.Join("; ", c.Running.Select(n => $"{n.NodeId}: {n.LocalBackendBytes} bytes, {n.GetStoreStats()}")));
        Assert.All(c.Running, n => Assert.True(n.LocalBackendBytes <= Quota, $"member {n.NodeId}: {n.LocalBackendBytes} bytes"));

        await c.OnLeaderAsync(async l =>
        {
            await l.DisarmAlarmAsync(AlarmType.NoSpace, 0);
            return true;
        });
        await Eventually.TrueAsync(() => c.Running.All(n => n.Alarms.Count == 0), Deadline, "every member applied the disarm");
        await c.WriteAsync(KvTxn.Single(KvOp.Put(B("after"), B("disarm"))));
        await c.OnLeaderAsync(l => l.LeaseGrantAsync(0, 60));
        await c.AssertReplicasIdenticalAsync();
    }
}
