using System.Collections.Frozen;

namespace RaftKv.Replication.Api;

/// <summary>
/// The replicated auth state as of one applied index (immutable; the applier publishes a new instance
/// per change). Identical on every replica at the same index.
/// </summary>
/// <param name="Enabled">etcd's auth enabled flag.</param>
/// <param name="Revision">etcd's auth revision: +1 per applied auth change (a refused change does not
/// count).</param>
/// <param name="TokenKey">The cluster's token signing key (32 random bytes chosen by the node that proposed
/// the first AuthEnable; empty before it).</param>
/// <param name="Users">Users by name.</param>
/// <param name="Roles">Roles by name.</param>
public sealed record AuthState(bool Enabled, long Revision, byte[] TokenKey, FrozenDictionary<string, AuthUser> Users, FrozenDictionary<string, AuthRole> Roles)
{
    public static readonly AuthState Empty = new(false, 0, [], FrozenDictionary<string, AuthUser>.Empty, FrozenDictionary<string, AuthRole>.Empty);

    public AuthUser? User(string name) => Users.GetValueOrDefault(name);

    public AuthRole? Role(string name) => Roles.GetValueOrDefault(name);

    /// <summary>
    /// True when <paramref name="user"/> may read (or <paramref name="write"/>) every key of the request range:
    /// <paramref name="rangeEnd"/> null or empty = the single key; <c>[0x00]</c> = from the key on. etcd's rule: the
    /// union of the user's matching permissions (over all its roles) must cover the whole range; the root role
    /// covers everything.
    /// </summary>
    public bool IsPermitted(AuthUser user, ReadOnlySpan<byte> key, ReadOnlySpan<byte> rangeEnd, bool write)
    {
        ArgumentNullException.ThrowIfNull(user);
        if (user.IsRoot)
        {
            return true;
        }

        var intervals = new List<(byte[] Start, byte[]? End)>();
        foreach (var roleName in user.Roles)
        {
            if (Role(roleName) is not { } role)
            {
                continue;
            }

            foreach (var p in role.Permissions)
            {
                if (p.Allows(write))
                {
                    intervals.Add(Interval(p.Key, p.RangeEnd));
                }
            }
        }

        if (intervals.Count == 0)
        {
            return false;
        }

        var (start, end) = Interval(key, rangeEnd);
        intervals.Sort((a, b) => a.Start.AsSpan().SequenceCompareTo(b.Start));

        // Walk the merged cover from the request's start.
        byte[]? covered = start; // everything in [start, covered) is permitted; null = to the end of the keyspace
        foreach (var (s, e) in intervals)
        {
            if (covered is null)
            {
                break;
            }

            if (s.AsSpan().SequenceCompareTo(covered) > 0)
            {
                break; // a gap before this interval
            }

            if (e is null || e.AsSpan().SequenceCompareTo(covered) > 0)
            {
                covered = e;
            }
        }

        return covered is null || (end is not null && end.AsSpan().SequenceCompareTo(covered) <= 0);
    }

    /// <summary>[start, end) of a key and etcd range end (end null = unbounded).</summary>
    private static (byte[] Start, byte[]? End) Interval(ReadOnlySpan<byte> key, ReadOnlySpan<byte> rangeEnd)
    {
        if (rangeEnd.IsEmpty)
        {
            return (key.ToArray(), [.. key, 0]); // the single key: [k, k\0)
        }

        if (rangeEnd is [0])
        {
            return (key.ToArray(), null);
        }

        return (key.ToArray(), rangeEnd.ToArray());
    }
}
