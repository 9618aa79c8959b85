using RaftKv.Replication.Api;
using RaftKv.Replication.Auth;
using RaftKv.Replication.Commands;

namespace RaftKv.Replication;

/// <remarks>
/// Authentication state (docs/architecture.md, "Authentication"): users, roles, permissions, the enabled flag,
/// the auth revision and the token key are replicated through Raft (kinds 32-47) and applied by
/// <see cref="State.KvState"/> deterministically. Passwords never reach this layer: the server hashes them
/// before it calls <see cref="ChangeAuthAsync"/>, so the log and snapshots hold only hashes.
/// </remarks>
public sealed partial class KvNode
{
    /// <summary>This replica's auth state as of its applied index (lock-free; may trail the leader).</summary>
    public AuthState Auth => _state.Auth.Current;

    /// <summary>The auth state after a read barrier (<paramref name="consistency"/>).</summary>
    public async Task<AuthState> ReadAuthAsync(ReadConsistency consistency, CancellationToken cancellationToken = default)
    {
        await BarrierAsync(consistency, cancellationToken).ConfigureAwait(false);
        return _state.Auth.Current;
    }

    /// <summary>Proposes an auth change (leader only) and waits until it is applied here. A refusal
    /// (etcd's rules, decided at apply on every replica alike) throws <see cref="AuthException"/>.</summary>
    /// <returns>The auth revision after the change.</returns>
    public async Task<long> ChangeAuthAsync(CommandKind kind, AuthChange change, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(change);
        if (!KvCommand.IsAuthKind(kind) || kind == CommandKind.SimpleToken)
        {
            throw new ArgumentException($"command kind {kind} is not an auth change", nameof(kind));
        }

        await ProposeAsync(new KvCommand(kind, NextTimestamp(), null, null, Auth: change), cancellationToken).ConfigureAwait(false);
        Interlocked.Exchange(ref _lastWriteTicks, Environment.TickCount64);
        return _state.Auth.Current.Revision;
    }

    /// <summary>The keys attached to lease <paramref name="id"/> on this replica (permission checks of revoke
    /// and TimeToLive).</summary>
    public IReadOnlyList<byte[]> LeaseAttachedKeys(long id) => _state.AttachedKeys(id);
}
