namespace RaftKv.Replication.Api;

/// <summary>
/// The keys one user may read (or write) under one <see cref="AuthState"/>: the union of the matching permissions of all
/// its roles, as sorted, disjoint, non-adjacent intervals [start, end) (end null = to the end of the keyspace) — etcd's
/// merged range permission cache. A request range is permitted when one interval covers it whole (etcd's rule: the union
/// must cover the whole range; merging makes "one interval" the same test). Immutable: safe to share between threads and
/// to cache per auth state (the state is immutable too).
/// </summary>
public sealed class KeyPermissions
{
    /// <summary>Nothing permitted.</summary>
    public static readonly KeyPermissions None = new([]);

    /// <summary>Every key (the root role).</summary>
    public static readonly KeyPermissions All = new([([], null)]);

    private readonly (byte[] Start, byte[]? End)[] _intervals;

    private KeyPermissions((byte[] Start, byte[]? End)[] intervals) => _intervals = intervals;

    /// <summary>The union of <paramref name="user"/>'s permissions in <paramref name="state"/> that allow reading (or
    /// <paramref name="write"/>); roles the state no longer holds are skipped.</summary>
    public static KeyPermissions Of(AuthState state, AuthUser user, bool write)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(user);
        if (user.IsRoot)
        {
            return All;
        }

        var intervals = new List<(byte[] Start, byte[]? End)>();
        foreach (var roleName in user.Roles)
        {
            if (state.Role(roleName) is { } role)
            {
                foreach (var p in role.Permissions)
                {
                    if (p.Allows(write) && Interval(p.Key, p.RangeEnd) is var i && (i.End is null || i.End.AsSpan().SequenceCompareTo(i.Start) > 0))
                    {
                        intervals.Add(i); // a permission whose end is at or below its key covers no key
                    }
                }
            }
        }

        if (intervals.Count == 0)
        {
            return None;
        }

        intervals.Sort((a, b) => a.Start.AsSpan().SequenceCompareTo(b.Start));
        var merged = new List<(byte[] Start, byte[]? End)> { intervals[0] };
        foreach (var (s, e) in intervals.Skip(1))
        {
            var (lastStart, lastEnd) = merged[^1];
            if (lastEnd is null)
            {
                break; // the last interval reaches the end of the keyspace: it covers every later one
            }

            if (s.AsSpan().SequenceCompareTo(lastEnd) <= 0)
            {
                merged[^1] = (lastStart, e is null || e.AsSpan().SequenceCompareTo(lastEnd) > 0 ? e : lastEnd); // overlapping or adjacent
            }
            else
            {
                merged.Add((s, e));
            }
        }

        return new KeyPermissions([.. merged]);
    }

    /// <summary>Whether every key of the request range is permitted: <paramref name="rangeEnd"/> empty = the single key,
    /// <c>[0x00]</c> = from the key on, else [key, rangeEnd) (etcd's encoding). A range whose end is at or below its key
    /// holds no key and is judged as its first key. No allocation.</summary>
    public bool Covers(ReadOnlySpan<byte> key, ReadOnlySpan<byte> rangeEnd)
    {
        // The last interval starting at or before the key is the only one that can cover it.
        int lo = 0, hi = _intervals.Length - 1, found = -1;
        while (lo <= hi)
        {
            var mid = (lo + hi) >>> 1;
            if (_intervals[mid].Start.AsSpan().SequenceCompareTo(key) <= 0)
            {
                found = mid;
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }

        if (found < 0)
        {
            return false;
        }

        var end = _intervals[found].End;
        if (end is null)
        {
            return true;
        }

        if (end.AsSpan().SequenceCompareTo(key) <= 0)
        {
            return false; // the key itself is past the interval ([k, k\0) needs end > k: k\0 is the least key above k)
        }

        return rangeEnd.IsEmpty || (rangeEnd is not [0] && rangeEnd.SequenceCompareTo(end) <= 0);
    }

    /// <summary>[start, end) of a key and etcd range end (end null = unbounded).</summary>
    private static (byte[] Start, byte[]? End) Interval(byte[] key, byte[] rangeEnd)
    {
        if (rangeEnd.Length == 0)
        {
            return (key, [.. key, 0]); // the single key: [k, k\0)
        }

        return (key, rangeEnd is [0] ? null : rangeEnd);
    }
}
