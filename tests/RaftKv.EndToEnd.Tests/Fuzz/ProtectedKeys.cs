using System.Text;

namespace RaftKv.EndToEnd.Tests.Fuzz;

/// <summary>
/// The data a fuzz run writes before it starts and checks afterwards. Fuzzed requests that could
/// legitimately change it (a put on one of its keys, a delete whose key, prefix or range covers it)
/// are not sent: the run checks that the node never loses data by accident, not that deletes work.
/// </summary>
internal static class ProtectedKeys
{
    public const string Prefix = "keep/";

    public static readonly byte[] Lowest = Encoding.UTF8.GetBytes(Prefix);

    public static IEnumerable<(string Key, string Value)> All
        => Enumerable.Range(0, 20).Select(i => ($"{Prefix}{i:D2}", $"value-{i}-\u00e9\u4e2d"));

    /// <summary>True when a write to <paramref name="key"/> could change a protected key.</summary>
    public static bool HitByPut(ReadOnlySpan<byte> key) => key.StartsWith(Lowest.AsSpan(0, 4));

    /// <summary>True when deleting <paramref name="key"/> (as a key, a prefix, or the start of
    /// [key, rangeEnd)) could delete a protected key. Conservative.</summary>
    public static bool HitByDelete(ReadOnlySpan<byte> key, bool prefix, ReadOnlySpan<byte> rangeEnd, bool allKeys)
    {
        if (allKeys || HitByPut(key))
        {
            return true;
        }

        if (prefix)
        {
            return Lowest.AsSpan().StartsWith(key);
        }

        // A range [key, rangeEnd): "\0" or anything above "keep/" from at or below it.
        return rangeEnd.Length > 0 && key.SequenceCompareTo(Lowest) <= 0
            && (rangeEnd.SequenceEqual((byte[])[0]) || rangeEnd.SequenceCompareTo(Lowest) > 0);
    }
}
