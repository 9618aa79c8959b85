namespace RaftKv.Tiering.Tests;

/// <summary>A clock the test sets (it may step backwards, as a corrected system clock does).</summary>
internal sealed class SettableClock(DateTimeOffset now) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = now;

    public override DateTimeOffset GetUtcNow() => Now;
}
