using RaftKv.Replication.Api;

namespace RaftKv.Replication.State;

/// <summary>etcd's range conventions (<see cref="RangeRequest"/>) as store bounds.</summary>
internal static class RangeBounds
{
    private static readonly byte[] ReservedEnd = KeyRanges.PrefixEnd(ReservedKeys.Prefix);

    /// <summary>RangeEnd null/empty = the single key; [0x00] = every key ≥ key (all keys when key is
    /// [0x00] too); at or before the key = no key ([key, key), as etcd's index answers such a range); otherwise
    /// [key, rangeEnd). The returned end is empty for unbounded.</summary>
    public static (byte[] Start, byte[] End, bool Single) Of(byte[] key, byte[]? rangeEnd)
    {
        if (rangeEnd is not { Length: > 0 })
        {
            return (key, [], true);
        }

        if (rangeEnd is [0x00])
        {
            return (key is [0x00] ? [] : key, [], false);
        }

        return (key, IsBackwards(key, rangeEnd) ? key : rangeEnd, false);
    }

    /// <summary>Whether a bounded <paramref name="rangeEnd"/> (not empty, not [0x00]) is at or before
    /// <paramref name="key"/>: the range holds no key.</summary>
    public static bool IsBackwards(byte[] key, byte[] rangeEnd) => rangeEnd.AsSpan().SequenceCompareTo(key) <= 0;

    /// <summary>Whether <paramref name="key"/> is in the range.</summary>
    public static bool Contains(byte[] start, byte[] end, bool single, ReadOnlySpan<byte> key)
        => single ? key.SequenceEqual(start) : key.SequenceCompareTo(start) >= 0 && (end.Length == 0 || key.SequenceCompareTo(end) < 0);

    /// <summary>[start, end) without the reserved keys' interval [0x00 0xFF, 0x01): up to two store scans.</summary>
    public static IEnumerable<(byte[] Start, byte[] End)> UserSegments(byte[] start, byte[] end)
    {
        var prefix = ReservedKeys.Prefix;
        var endsBeforeReserved = end.Length > 0 && end.AsSpan().SequenceCompareTo(prefix) <= 0;
        if (start.AsSpan().SequenceCompareTo(prefix) < 0)
        {
            yield return (start, endsBeforeReserved ? end : prefix);
        }

        if (endsBeforeReserved)
        {
            yield break;
        }

        var from = start.AsSpan().SequenceCompareTo(ReservedEnd) > 0 ? start : ReservedEnd;
        if (end.Length == 0 || from.AsSpan().SequenceCompareTo(end) < 0)
        {
            yield return (from, end);
        }
    }
}
