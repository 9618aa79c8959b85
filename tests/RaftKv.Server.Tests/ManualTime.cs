namespace RaftKv.Server.Tests;

/// <summary>A clock the test moves by hand (token expiry, rate-limit windows) — no sleeps.</summary>
internal sealed class ManualTime(DateTimeOffset start) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = start;

    public override DateTimeOffset GetUtcNow() => Now;

    public void Advance(TimeSpan by) => Now += by;
}
