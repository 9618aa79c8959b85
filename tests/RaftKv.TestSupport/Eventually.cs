namespace RaftKv.TestSupport;

/// <summary>Polls a condition until it holds or the deadline passes (no fixed sleeps as waits).</summary>
public static class Eventually
{
    public static async Task TrueAsync(Func<bool> condition, TimeSpan timeout, string what)
    {
        if (!await WithinAsync(condition, timeout))
        {
            throw new TimeoutException($"timed out after {timeout.TotalSeconds:F0}s waiting until {what}");
        }
    }

    /// <summary>Polls <paramref name="condition"/> until it holds (true) or <paramref name="timeout"/> passes (false): a
    /// bounded wait whose outcome the caller acts on (e.g. nudging the system and waiting again).</summary>
    public static async Task<bool> WithinAsync(Func<bool> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                return false;
            }

            await Task.Delay(Poll.Interval);
        }

        return true;
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
