using RaftKv.Replication.State;

namespace RaftKv.Replication.Tests;

/// <summary>When the idle leader ticks for per-key TTLs (<see cref="ExpirySchedule"/>): at applied expiries, rounded up;
/// always while the schedule cannot know the live expiries (after a load with live TTL keys, on overflow); never once
/// the logical clock has passed the TTL horizon.</summary>
public sealed class ExpiryScheduleTests
{
    [Fact]
    public void ATickIsDueOnceTheWallClockReachesAnExpiryAndNotBefore()
    {
        var s = new ExpirySchedule();
        s.Reset(horizon: 0, clock: 100);
        s.Add(1_050, clock: 100); // bucket 1,100
        Assert.False(s.TickDue(nowUnixMs: 1_000, clock: 100, horizon: 1_050));
        Assert.False(s.TickDue(nowUnixMs: 1_099, clock: 100, horizon: 1_050));
        Assert.True(s.TickDue(nowUnixMs: 1_100, clock: 100, horizon: 1_050));

        // The tick's entry moved the clock past the horizon: nothing is due any more, and the schedule is empty.
        Assert.False(s.TickDue(nowUnixMs: 1_200, clock: 1_100, horizon: 1_050));
        Assert.Equal(0, s.Count);
    }

    [Fact]
    public void BucketsTheClockPassedAreDroppedAndLaterOnesWait()
    {
        var s = new ExpirySchedule();
        s.Reset(horizon: 0, clock: 0);
        s.Add(1_000, clock: 0);
        s.Add(1_000, clock: 0); // same bucket
        s.Add(60_000, clock: 0);
        Assert.Equal(2, s.Count);

        // A write moved the clock past the first expiry: only the later one is left, and it is not due.
        Assert.False(s.TickDue(nowUnixMs: 1_500, clock: 1_200, horizon: 60_000));
        Assert.Equal(1, s.Count);
        Assert.True(s.TickDue(nowUnixMs: 60_000, clock: 1_200, horizon: 60_000));
    }

    [Fact]
    public void AfterALoadWithLiveTtlKeysEveryPassTicksUntilTheClockReachesTheLoadedHorizon()
    {
        var s = new ExpirySchedule();
        s.Reset(horizon: 5_000, clock: 100); // keys written before may expire up to 5,000, unseen
        Assert.True(s.TickDue(nowUnixMs: 200, clock: 100, horizon: 5_000));
        s.Add(9_000, clock: 3_000);
        Assert.True(s.TickDue(nowUnixMs: 4_000, clock: 3_900, horizon: 9_000));

        // Past the loaded horizon every live expiry was applied here: only the schedule decides.
        Assert.False(s.TickDue(nowUnixMs: 5_100, clock: 5_000, horizon: 9_000));
        Assert.True(s.TickDue(nowUnixMs: 9_000, clock: 5_000, horizon: 9_000));
    }

    [Fact]
    public void AnUnknownHorizonTicksEveryPass()
    {
        var s = new ExpirySchedule();
        s.Reset(horizon: long.MaxValue, clock: 100);
        Assert.True(s.TickDue(nowUnixMs: 200, clock: 100, horizon: long.MaxValue));
        Assert.True(s.TickDue(nowUnixMs: 1_000_000, clock: 999_000, horizon: long.MaxValue));
    }

    [Fact]
    public void AFullScheduleRoundsCoarserAndStillTicksAtOrAfterEveryExpiry()
    {
        var s = new ExpirySchedule(maxBuckets: 4);
        s.Reset(horizon: 0, clock: 0);
        long[] expiries = [1_050, 1_130, 1_250, 1_330, 1_450]; // five 100 ms buckets: the fifth doubles the rounding
        foreach (var e in expiries)
        {
            s.Add(e, clock: 0);
        }

        Assert.Equal(2 * ExpirySchedule.GranularityMs, s.Granularity);
        Assert.True(s.Count <= 4);

        // Each expiry: no tick is due before it (so none leaves it unexpired), and one is due within the rounding after it.
        var clock = 0L;
        foreach (var e in expiries.Where(e => e > clock)) // an expiry an earlier tick passed needs none of its own
        {
            Assert.False(s.TickDue(nowUnixMs: e - 1, clock, horizon: 1_450), $"due before {e}");
            var due = e;
            while (!s.TickDue(nowUnixMs: due, clock, horizon: 1_450))
            {
                due++;
            }

            Assert.True(due - e < s.Granularity, $"tick for {e} due only at {due}");
            clock = due; // the tick's entry moves the clock to its time
        }
    }

    [Fact]
    public void ExpiriesSpreadPastTheCoarsestRoundingTickEveryPassUntilTheHorizonIsPassed()
    {
        var s = new ExpirySchedule(maxBuckets: 2);
        s.Reset(horizon: 0, clock: 0);
        long last = 0;
        for (var i = 1; i <= 3; i++)
        {
            last = i * 10 * ExpirySchedule.MaxGranularityMs;
            s.Add(last, clock: 0);
        }

        Assert.Equal(0, s.Count); // overflowed: the expiries are dropped
        Assert.True(s.TickDue(nowUnixMs: 1_000, clock: 900, horizon: last));
        Assert.False(s.TickDue(nowUnixMs: last + 1, clock: last, horizon: last));

        // Complete again, at the finest rounding: a new expiry is scheduled.
        s.Add(last + 10_000, clock: last);
        Assert.Equal(1, s.Count);
        Assert.Equal(ExpirySchedule.GranularityMs, s.Granularity);
        Assert.False(s.TickDue(nowUnixMs: last + 1, clock: last, horizon: last + 10_000));
    }

    [Fact]
    public void AddingDropsTheBucketsTheClockPassed()
    {
        var s = new ExpirySchedule();
        s.Reset(horizon: 0, clock: 0);
        s.Add(1_000, clock: 0);
        s.Add(2_000, clock: 0);
        s.Add(9_000, clock: 2_500); // a follower never asks TickDue: its adds keep it small
        Assert.Equal(1, s.Count);
    }

    [Fact]
    public void AnExpiryAddedAfterTheCallerReadAnOldHorizonIsKept()
    {
        var s = new ExpirySchedule();
        s.Reset(horizon: 0, clock: 1_000);

        // The tick loop read horizon 0 (nothing live), then the applier applied a TTL put (raising the horizon to 5,000)
        // and added its expiry before the tick loop took the schedule's lock.
        s.Add(5_000, clock: 1_000);
        Assert.False(s.TickDue(nowUnixMs: 1_100, clock: 1_000, horizon: 0));
        Assert.Equal(1, s.Count);
        Assert.True(s.TickDue(nowUnixMs: 5_000, clock: 1_000, horizon: 5_000));
    }

    [Fact]
    public void ARebuildCompletesTheScheduleUnlessAResetCameBetween()
    {
        var s = new ExpirySchedule();
        s.Reset(horizon: 9_000, clock: 100);
        Assert.True(s.NeedsRebuild(clock: 100, out var generation));
        s.AddRebuilt(generation, 9_000, clock: 100);
        Assert.True(s.CompleteRebuild(generation));
        Assert.False(s.NeedsRebuild(clock: 100, out _));
        Assert.False(s.TickDue(nowUnixMs: 200, clock: 100, horizon: 9_000)); // complete: only the scheduled expiry ticks
        Assert.True(s.TickDue(nowUnixMs: 9_000, clock: 100, horizon: 9_000));

        // A snapshot installed during a rebuild resets the schedule: the rebuild's expiries and completion are void.
        s.Reset(horizon: 20_000, clock: 200);
        Assert.True(s.NeedsRebuild(clock: 200, out var stale));
        s.Reset(horizon: 30_000, clock: 300);
        s.AddRebuilt(stale, 20_000, clock: 300);
        Assert.False(s.CompleteRebuild(stale));
        Assert.Equal(0, s.Count);
        Assert.True(s.TickDue(nowUnixMs: 400, clock: 300, horizon: 30_000));

        // An unknown horizon is never rebuilt.
        s.Reset(horizon: long.MaxValue, clock: 300);
        Assert.False(s.NeedsRebuild(clock: 300, out _));
    }
}
