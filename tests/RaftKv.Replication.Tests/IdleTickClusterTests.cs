using System.Text;
using RaftKv.Replication.Api;

namespace RaftKv.Replication.Tests;

/// <summary>
/// An idle cluster appends nothing (no tick entries, no fsyncs), unless a key written with a TTL may still be live:
/// then the idle leader ticks until the logical clock has passed its expiry (KvNode.Background.cs).
/// </summary>
public sealed class IdleTickClusterTests
{
    private const int Passes = 10; // tick-loop passes per quiet window (TestCluster ticks every 200 ms)

    private static byte[] B(string s) => Encoding.UTF8.GetBytes(s);

    /// <summary>One window of <see cref="Passes"/> tick-loop passes on the current leader: true when no member applied
    /// anything and the leader proposed no tick meanwhile (false also when leadership changed: a new leader appends).</summary>
    private static async Task<bool> QuietWindowAsync(TestCluster c)
    {
        var leader = await c.WaitForLeaderAsync();
        var term = leader.GetStatus().Term;
        var applied = c.Running.Select(n => n.GetStatus().AppliedIndex).ToList();
        var ticks = leader.TicksProposed;
        var from = leader.TickLoopPasses;
        await Eventually.TrueAsync(() => leader.TickLoopPasses >= from + Passes, TimeSpan.FromSeconds(30), "the leader's tick loop passes");
        return leader.GetStatus() is { Role: "leader" } s && s.Term == term
            && leader.TicksProposed == ticks
            && c.Running.Select(n => n.GetStatus().AppliedIndex).SequenceEqual(applied);
    }

    [Fact]
    public async Task AnIdleClusterWithoutTtlKeysAppendsNothing()
    {
        await using var c = await TestCluster.StartAsync(3);
        await c.PutAsync("a", "1");
        await c.PutAsync("b", "2");
        await Eventually.TrueAsync(() => QuietWindowAsync(c), TimeSpan.FromSeconds(60), $"a window of {Passes} tick-loop passes in which nothing is appended");
        Assert.NotNull(await (await c.WaitForLeaderAsync()).GetAsync(B("a"), ReadConsistency.Linearizable));
    }

    [Fact]
    public async Task AKeyWithATtlKeepsTheIdleLeaderTickingUntilItHasExpired()
    {
        await using var c = await TestCluster.StartAsync(3);
        await c.WriteAsync(KvTxn.Single(KvOp.Put(B("ttl"), B("x"), ttlMs: 1_500)));
        await c.PutAsync("plain", "v");

        // Nothing but the leader's ticks moves the clock past the expiry.
        await Eventually.TrueAsync(async () => await (await c.WaitForLeaderAsync()).GetAsync(B("ttl"), ReadConsistency.Linearizable) is null, TimeSpan.FromSeconds(30), "the key expires on the idle cluster");
        Assert.True(c.Running.Sum(n => n.TicksProposed) > 0, "ticks moved the clock");
        foreach (var n in c.Running)
        {
            await Eventually.TrueAsync(async () => await n.GetAsync(B("ttl"), ReadConsistency.Linearizable) is null, TimeSpan.FromSeconds(30), $"the key expires on node {n.NodeId}");
        }

        // Then the ticks stop.
        await Eventually.TrueAsync(() => QuietWindowAsync(c), TimeSpan.FromSeconds(60), $"a window of {Passes} tick-loop passes in which nothing is appended");
        Assert.NotNull(await (await c.WaitForLeaderAsync()).GetAsync(B("plain"), ReadConsistency.Linearizable));
    }
}
