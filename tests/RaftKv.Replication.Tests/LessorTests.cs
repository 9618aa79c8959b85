using RaftKv.Replication.Leases;

namespace RaftKv.Replication.Tests;

/// <summary>The leader's lease clock (<see cref="Lessor"/>) on a clock that only moves when told.</summary>
public sealed class LessorTests
{
    [Fact]
    public void RemainingRightAfterAGrantIsBelowTheTtlAsEtcdTruncatesIt()
    {
        var time = new StoppedClock();
        var table = new LeaseTable();
        table.Set(new LeaseRecord(7, 600, 0));
        var lessor = new Lessor(table, time);

        // Asked before Track started the clock (a TimeToLive racing the grant), on a clock that has not moved.
        Assert.Equal(599, lessor.Remaining(7));

        table.Set(new LeaseRecord(8, 10, 0));
        lessor.Track(10);
        Assert.Equal(10, lessor.Remaining(8)); // started by Track at this very tick: all of it left, as before
        time.Advance(TimeSpan.FromSeconds(2.5));
        Assert.Equal(7, lessor.Remaining(8));
        Assert.Equal(597, lessor.Remaining(7));
        Assert.Null(lessor.Remaining(9));
    }
}
