namespace RaftKv.TestSupport;

/// <summary>How often condition loops re-check (every loop also has a deadline; nothing waits a fixed time).</summary>
public static class Poll
{
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(50);
}
