namespace RaftKv.Replication.Tests;

/// <summary>A clock that moves only when a test advances it (<see cref="TimeProvider.GetTimestamp"/> in ticks).</summary>
internal sealed class StoppedClock : TimeProvider
{
    private long _ticks = 1_000_000;

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override long GetTimestamp() => _ticks;

    public void Advance(TimeSpan by) => _ticks += by.Ticks;
}
