using System.Text;
using RaftKv.Replication.Api;

namespace RaftKv.Replication.Tests;

/// <summary>
/// An idle cluster appends nothing (no tick entries, no fsyncs), unless the expiry of a key written with a TTL is due
/// (the idle leader ticks so that the logical clock passes it) or no entry of the leader's term was applied
/// (KvNode.Background.cs).
/// </summary>
public sealed class IdleTickClusterTests
{
    private const int Passes = 10; // tick-loop passes per quiet window (TestCluster ticks every 200 ms)

    private static byte[] B(string s) => Encoding.UTF8.GetBytes(s);

    /// <summary>Windows of <see cref="Passes"/> tick-loop passes on the current leader until one in which no member applied
    /// anything and the leader proposed no tick (a leadership change spoils a window: a new leader appends); fails
    /// after 60 s with what the last window saw.</summary>
    private static async Task AssertQuietWindowAsync(TestCluster c)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        var seen = "";
        while (DateTime.UtcNow < deadline)
        {
            var leader = await c.WaitForLeaderAsync();
            var term = leader.GetStatus().Term;
            var applied = c.Running.Select(n => n.GetStatus().AppliedIndex).ToList();
            var ticks = leader.TicksProposed;
            var from = leader.TickLoopPasses;
            await Eventually.TrueAsync(() => leader.TickLoopPasses >= from + Passes, TimeSpan.FromSeconds(30), "the leader's tick loop passes");
            var status = leader.GetStatus();
            var after = c.Running.Select(n => n.GetStatus().AppliedIndex).ToList();
            if (status.Role == "leader" && status.Term == term && leader.TicksProposed == ticks && after.SequenceEqual(applied))
            {
                return;
            }

            seen = $"role {status.Role}, term {term} -> {status.Term}, ticks {ticks} -> {leader.TicksProposed}, applied [{string.Join(",", applied)}] -> [{string.Join(",", after)}]";
        }

        Assert.Fail($"no window of {Passes} tick-loop passes without appends in 60 s; the last: {seen}");
    }

    [Fact]
    public async Task AnIdleClusterWithoutTtlKeysAppendsNothing()
    {
        await using var c = await TestCluster.StartAsync(3);
        await c.PutAsync("a", "1");
        await c.PutAsync("b", "2");
        await AssertQuietWindowAsync(c);
        Assert.NotNull(await (await c.WaitForLeaderAsync()).GetAsync(B("a"), ReadConsistency.Linearizable));
    }

    [Fact]
    public async Task AnIdleLeaderTicksWhenATtlExpiryIsDueAndNotWhileNoneIs()
    {
        await using var c = await TestCluster.StartAsync(3);
        await c.PutAsync("plain", "v");
        await c.WriteAsync(KvTxn.Single(KvOp.Put(B("hour"), B("y"), ttlMs: 3_600_000)));
        await c.WriteAsync(KvTxn.Single(KvOp.Put(B("ttl"), B("x"), ttlMs: 1_500))); // last: no later write's timestamp can expire it (a loaded machine took 1.5 s between writes)

        // Nothing but the leader's ticks moves the clock past the expiry.
        await Eventually.TrueAsync(async () => await (await c.WaitForLeaderAsync()).GetAsync(B("ttl"), ReadConsistency.Linearizable) is null, TimeSpan.FromSeconds(30), "the key expires on the idle cluster");
        Assert.True(c.Running.Sum(n => n.TicksProposed) > 0, "ticks moved the clock");
        foreach (var n in c.Running)
        {
            await Eventually.TrueAsync(async () => await n.GetAsync(B("ttl"), ReadConsistency.Linearizable) is null, TimeSpan.FromSeconds(30), $"the key expires on node {n.NodeId}");
        }

        // Then the ticks stop, although a key with an hour's TTL is live: its expiry is not due (ExpirySchedule).
        await AssertQuietWindowAsync(c);
        Assert.NotNull(await (await c.WaitForLeaderAsync()).GetAsync(B("plain"), ReadConsistency.Linearizable));
        Assert.NotNull(await (await c.WaitForLeaderAsync()).GetAsync(B("hour"), ReadConsistency.Linearizable));
    }

    [Fact]
    public async Task ARestartedSingleNodeServesLinearizableReadsWithoutAWrite()
    {
        // A one-member cluster starts as leader of its stored term without DotNext's no-op entry; a linearizable read
        // waits for an applied entry of the current term, which the idle leader's term-start tick provides — at once, not
        // after a tick interval: with an interval of an hour, the read must still be answered (within the test's deadline).
        using var disk = new MemoryDiskNode("idle-restart");
        static KvNodeOptions NoInitialCheck(KvNodeOptions o) => o with { InitialCorruptCheck = false }; // its entry would do as well
        var node = await disk.StartAsync(configure: NoInitialCheck);
        await node.WriteAsync(KvTxn.Single(KvOp.Put(B("k"), B("v"))));
        await node.StopAsync();

        node = await disk.StartAsync(configure: o => NoInitialCheck(o) with { TickInterval = TimeSpan.FromHours(1) });
        try
        {
            var entry = await node.GetAsync(B("k"), ReadConsistency.Linearizable).AsTask().WaitAsync(TimeSpan.FromSeconds(60));
            Assert.Equal("v", Encoding.UTF8.GetString(Assert.NotNull(entry).Value.Span));
            await Eventually.TrueAsync(() => node.TicksProposed > 0, TimeSpan.FromSeconds(30), "the term-start tick counted (after its proposal returns, which may be after the read)");
        }
        finally
        {
            await node.StopAsync();
        }
    }

    [Fact]
    public async Task ARestartedNodeRebuildsItsTtlScheduleAndStopsTickingUntilAnExpiryIsDue()
    {
        // After a restart the node cannot know the expiries of TTL keys written before it and ticks every interval, until one
        // scan of the metadata (KvNode.TtlTicks.cs) has added them: then an hour's TTL costs no ticks until it is due.
        using var disk = new MemoryDiskNode("idle-ttl-restart");
        static KvNodeOptions Fast(KvNodeOptions o) => o with { InitialCorruptCheck = false, TickInterval = TimeSpan.FromMilliseconds(100) };
        var node = await disk.StartAsync(configure: Fast);
        await node.WriteAsync(KvTxn.Single(KvOp.Put(B("hour"), B("v"), ttlMs: 3_600_000)));
        await node.WriteAsync(KvTxn.Single(KvOp.Put(B("plain"), B("v"))));
        await node.StopAsync();

        node = await disk.StartAsync(configure: Fast);
        try
        {
            await Eventually.TrueAsync(() => node.ExpiryRebuilds > 0, TimeSpan.FromSeconds(30), "the schedule was rebuilt");
            var quiet = false;
            for (var window = 0; window < 10 && !quiet; window++)
            {
                var ticks = node.TicksProposed;
                var from = node.TickLoopPasses;
                await Eventually.TrueAsync(() => node.TickLoopPasses >= from + Passes, TimeSpan.FromSeconds(30), "the tick loop passes");
                quiet = node.TicksProposed == ticks;
            }

            Assert.True(quiet, $"the restarted node kept ticking ({node.TicksProposed} ticks)");
            Assert.NotNull(await node.GetAsync(B("hour"), ReadConsistency.Linearizable));
        }
        finally
        {
            await node.StopAsync();
        }
    }
}
