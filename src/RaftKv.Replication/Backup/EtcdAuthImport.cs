using RaftKv.Replication.Api;
using RaftKv.Replication.Auth;
using RaftKv.Replication.Commands;
using RaftKv.Storage;

namespace RaftKv.Replication.Backup;

/// <summary>
/// etcd's users, roles and auth flag as RaftKv's replicated auth records (<see cref="AuthKeys"/>): the state the
/// applier would hold after the equivalent etcdctl commands, built by running those commands through the applier's
/// own <see cref="AuthTable.Change"/> (etcd's rules) — <c>role add</c> and <c>role grant-permission</c> per role,
/// <c>user add</c> (with the user's password record, or none) and <c>user grant-role</c> per user, then <c>auth
/// enable</c> if etcd had auth enabled — and writing the final state's records with the applier's encoders.
/// </summary>
/// <remarks>
/// <para>Deterministic, so every member restored from the same file holds the same records: names in ordinal order,
/// no clock, no randomness. The auth revision is the larger of etcd's <c>authRevision</c> and the number of replayed
/// changes (each user's revision is the replayed change that last touched it, below it). An enabled state has no
/// token signing key yet: no member may draw one alone, so the first leader proposes it (an AuthEnable with a fresh
/// key, <c>KvNode.AuthTokenKey.cs</c>); until then requests are judged as usual and only token issuing waits.</para>
/// <para>Refused, before anything is written (<see cref="SnapshotFileException"/>,
/// <see cref="SnapshotFileError.UnsupportedAuth"/>, naming the user or role and the <see cref="AuthError"/>): any
/// change the applier's rules refuse — a duplicate or empty name, a role granted but missing (the root role excepted,
/// as in etcd), auth enabled without a root user holding the root role.</para>
/// </remarks>
internal static class EtcdAuthImport
{
    /// <summary>The store writes of <paramref name="auth"/> and the state they hold.</summary>
    /// <exception cref="SnapshotFileException">The applier's rules refuse one of the changes.</exception>
    public static (List<WriteOp> Ops, AuthState State) Build(EtcdAuth auth)
    {
        ArgumentNullException.ThrowIfNull(auth);
        var table = AuthTable.ForImport();

        void Run(CommandKind kind, AuthChange change, string what)
        {
            var (next, _, error) = table.Change(kind, change);
            if (error is not null || next is null)
            {
                throw new SnapshotFileException(SnapshotFileError.UnsupportedAuth, $"etcd's auth state cannot be imported: {what}: {error?.Error} ({error?.Message})");
            }

            table.Publish(next);
        }

        foreach (var role in auth.Roles.OrderBy(r => r.Name, StringComparer.Ordinal))
        {
            Run(CommandKind.RoleAdd, new AuthChange(role.Name), $"role \"{role.Name}\"");
            foreach (var p in role.Permissions)
            {
                Run(CommandKind.RoleGrantPermission, new AuthChange(role.Name, Permission: p), $"role \"{role.Name}\"");
            }
        }

        foreach (var user in auth.Users.OrderBy(u => u.Name, StringComparer.Ordinal))
        {
            Run(CommandKind.UserAdd, new AuthChange(user.Name, Secret: user.PasswordRecord), $"user \"{user.Name}\"");
            foreach (var role in user.Roles.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))
            {
                Run(CommandKind.UserGrantRole, new AuthChange(user.Name, role), $"user \"{user.Name}\", role \"{role}\"");
            }
        }

        if (auth.Enabled)
        {
            Run(CommandKind.AuthEnable, new AuthChange(), "auth enable");
        }

        var s = table.Current;
        var state = s with { Revision = Math.Max(s.Revision, auth.Revision) };
        var ops = new List<WriteOp>();
        foreach (var role in state.Roles.Values.OrderBy(r => r.Name, StringComparer.Ordinal))
        {
            ops.AddRange(AuthKeys.RoleRecords(role).Select(r => WriteOp.Put(r.Key, r.Value)));
        }

        foreach (var user in state.Users.Values.OrderBy(u => u.Name, StringComparer.Ordinal))
        {
            ops.AddRange(AuthKeys.UserRecords(user).Select(r => WriteOp.Put(r.Key, r.Value)));
        }

        if (state.Revision > 0)
        {
            ops.Add(WriteOp.Put(AuthKeys.StateKey, AuthKeys.EncodeState(state.Enabled, state.Revision)));
        }

        return (ops, state);
    }
}
