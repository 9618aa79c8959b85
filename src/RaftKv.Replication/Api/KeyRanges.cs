namespace RaftKv.Replication.Api;

/// <summary>Key-range helpers shared by the APIs.</summary>
public static class KeyRanges
{
    /// <summary>The smallest key greater than every key starting with <paramref name="prefix"/>
    /// (empty = unbounded, for an empty or all-0xFF prefix).</summary>
    public static byte[] PrefixEnd(byte[] prefix)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        var end = (byte[])prefix.Clone();
        for (var i = end.Length - 1; i >= 0; i--)
        {
            if (end[i] < 0xFF)
            {
                end[i]++;
                return end[..(i + 1)];
            }
        }

        return [];
    }
}
