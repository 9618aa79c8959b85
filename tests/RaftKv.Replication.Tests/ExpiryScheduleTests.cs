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
        s.Add(1_050); // bucket 1,100
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
        s.Add(1_000);
        s.Add(1_000); // same bucket
        s.Add(60_000);
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
        s.Add(9_000);
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
    public void TooManyBucketsTickEveryPassUntilTheHorizonIsPassed()
    {
        var s = new ExpirySchedule();
        s.Reset(horizon: 0, clock: 0);
        long last = 0;
        for (var i = 1; i <= ExpirySchedule.MaxBuckets + 1; i++)
        {
            last = 1_000_000 + (i * ExpirySchedule.GranularityMs);
            s.Add(last);
        }

        Assert.Equal(0, s.Count); // overflowed: the expiries are dropped
        Assert.True(s.TickDue(nowUnixMs: 1_000, clock: 900, horizon: last));
        Assert.False(s.TickDue(nowUnixMs: last + 1, clock: last, horizon: last));

        // Complete again: a new expiry is scheduled.
        s.Add(last + 10_000);
        Assert.Equal(1, s.Count);
        Assert.False(s.TickDue(nowUnixMs: last + 1, clock: last, horizon: last + 10_000));
    }
}
