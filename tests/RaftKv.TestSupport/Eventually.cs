namespace RaftKv.TestSupport;

/// <summary>Polls a condition until it holds or the deadline passes (no fixed sleeps as waits).</summary>
public static class Eventually
{
    public static async Task TrueAsync(Func<bool> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"timed out after {timeout.TotalSeconds:F0}s waiting until {what}");
            }

            await Task.Delay(Poll.Interval);
        }
    }

    public static async Task TrueAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"timed out after {timeout.TotalSeconds:F0}s waiting until {what}");
            }

            await Task.Delay(Poll.Interval);
        }
    }
}
