using System.Collections.Concurrent;
using RaftKv.Replication.Api;

namespace RaftKv.Server.Security.Auth;

/// <summary>
/// Each user's merged <see cref="KeyPermissions"/> under the newest <see cref="AuthState"/> seen, so a request's
/// permission check is a binary search instead of collecting and sorting the user's permissions (etcd keeps the same
/// per-user cache, rebuilt on every auth revision). Entries belong to one state instance (states are immutable and
/// replaced on every applied change): a request judged on another instance starts a new cache.
/// </summary>
/// <remarks>Thread-safe: any number of requests may call <see cref="Of"/> at once. The current generation is swapped
/// atomically; two requests on different states may replace each other's generation, which only costs a rebuild.
/// Bounded by the users and roles of one state.</remarks>
internal sealed class PermissionCache
{
    private Generation _current = new(AuthState.Empty);

    /// <summary>What <paramref name="user"/> (a user of <paramref name="state"/>) may read (or <paramref name="write"/>) in
    /// <paramref name="state"/>.</summary>
    public KeyPermissions Of(AuthState state, AuthUser user, bool write)
    {
        if (user.IsRoot)
        {
            return KeyPermissions.All;
        }

        var generation = Volatile.Read(ref _current);
        if (!ReferenceEquals(generation.State, state))
        {
            generation = new Generation(state);
            Volatile.Write(ref _current, generation);
        }

        return generation.Users.GetOrAdd((user.Name, write), static (k, a) => KeyPermissions.Of(a.State, a.User, k.Write), (generation.State, User: user));
    }

    private sealed record Generation(AuthState State)
    {
        public ConcurrentDictionary<(string User, bool Write), KeyPermissions> Users { get; } = new();
    }
}
