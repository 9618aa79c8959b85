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
    /// covers everything. Builds the user's <see cref="KeyPermissions"/> each call: a caller judging many requests
    /// keeps those per state instead.
    /// </summary>
    public bool IsPermitted(AuthUser user, ReadOnlySpan<byte> key, ReadOnlySpan<byte> rangeEnd, bool write)
        => KeyPermissions.Of(this, user, write).Covers(key, rangeEnd);
}
