using System.Collections.Frozen;
using RaftKv.Replication.Api;
using RaftKv.Replication.Commands;
using RaftKv.Storage;

namespace RaftKv.Replication.Auth;

/// <summary>
/// The auth state in memory: an immutable <see cref="AuthState"/> replaced by the applier on each auth
/// change (and reloaded from the store at restore and snapshot install), read lock-free by every request.
/// </summary>
/// <remarks>
/// <see cref="Change"/> is deterministic: it reads only the current state (never the store, a clock or
/// randomness) and returns the store writes of the change, or the <see cref="AuthException"/> that refuses it
/// (etcd's rules) — the same on every replica at the same index. A refused change writes nothing (only the
/// clock moves) and leaves the auth revision alone.
/// </remarks>
internal sealed class AuthTable
{
    private readonly bool _keyFromLeader;
    private volatile AuthState _current = AuthState.Empty;

    public AuthTable()
    {
    }

    private AuthTable(bool keyFromLeader) => _keyFromLeader = keyFromLeader;

    public AuthState Current => _current;

    public void Load(IKvStore store) => _current = AuthKeys.Load(store);

    public void Publish(AuthState state) => _current = state;

    /// <summary>
    /// A table for building an imported auth state (Backup/EtcdAuthImport.cs) with the applier's rules: the same
    /// <see cref="Change"/>, except that an <see cref="CommandKind.AuthEnable"/> without a token key is accepted and
    /// leaves the key empty — every member restored from the same file must hold the same records, so no member may
    /// draw one; the first leader proposes it (<c>KvNode.AuthTokenKey.cs</c>). The applier's table never accepts that.
    /// </summary>
    public static AuthTable ForImport() => new(keyFromLeader: true);

    public static AuthState Make(bool enabled, long revision, byte[] tokenKey, IDictionary<string, AuthUser> users, IDictionary<string, AuthRole> roles)
        => new(enabled, revision, tokenKey, users.ToFrozenDictionary(StringComparer.Ordinal), roles.ToFrozenDictionary(StringComparer.Ordinal));

    /// <summary>Permissions in a deterministic order: by key, then range end.</summary>
    public static IReadOnlyList<AuthPermission> Sorted(IEnumerable<AuthPermission> permissions)
        => [.. permissions.OrderBy(p => p.Key, ByteOrder.Instance).ThenBy(p => p.RangeEnd, ByteOrder.Instance)];

    /// <summary>Applies one auth command to the current state: the new state and its store writes, or the refusal.</summary>
    public (AuthState? Next, List<WriteOp> Ops, AuthException? Error) Change(CommandKind kind, AuthChange change)
    {
        var s = _current;
        var users = new Dictionary<string, AuthUser>(s.Users, StringComparer.Ordinal);
        var roles = new Dictionary<string, AuthRole>(s.Roles, StringComparer.Ordinal);
        var ops = new List<WriteOp>();
        var rev = s.Revision + 1;
        var enabled = s.Enabled;
        var tokenKey = s.TokenKey;
        var name = change.Name;

        AuthException? Fail(AuthError e, string message) => new(e, message);

        void SetUser(AuthUser? before, AuthUser? after)
        {
            Diff(ops, before is null ? [] : AuthKeys.UserRecords(before), after is null ? [] : AuthKeys.UserRecords(after));
            if (after is null)
            {
                users.Remove(before!.Name);
            }
            else
            {
                users[after.Name] = after;
            }
        }

        void SetRole(AuthRole? before, AuthRole? after)
        {
            Diff(ops, before is null ? [] : AuthKeys.RoleRecords(before), after is null ? [] : AuthKeys.RoleRecords(after));
            if (after is null)
            {
                roles.Remove(before!.Name);
            }
            else
            {
                roles[after.Name] = after;
            }
        }

        var error = kind switch
        {
            CommandKind.AuthEnable => Enable(),
            CommandKind.AuthDisable => Run(() => enabled = false),
            CommandKind.UserAdd => name.Length == 0 ? Fail(AuthError.UserEmpty, "user name is empty")
                : users.ContainsKey(name) ? Fail(AuthError.UserAlreadyExists, "user name already exists")
                : Run(() => SetUser(null, new AuthUser(name, change.Secret, [], rev))),
            CommandKind.UserDelete => users.GetValueOrDefault(name) is not { } u ? Fail(AuthError.UserNotFound, "user name not found")
                : enabled && name == AuthUser.RootUser ? Fail(AuthError.InvalidAuthManagement, "invalid auth management")
                : Run(() => SetUser(u, null)),
            CommandKind.UserChangePassword => users.GetValueOrDefault(name) is not { } u ? Fail(AuthError.UserNotFound, "user name not found")
                : Run(() => SetUser(u, u with { PasswordHash = change.Secret, Revision = rev })),
            CommandKind.UserGrantRole => users.GetValueOrDefault(name) is not { } u ? Fail(AuthError.UserNotFound, "user name not found")
                : change.Role is not { } role || (role != AuthUser.RootRole && !roles.ContainsKey(role)) ? Fail(AuthError.RoleNotFound, "role name not found")
                : u.Roles.Contains(role, StringComparer.Ordinal) ? null // etcd: granting a granted role is a no-op
                : Run(() => SetUser(u, u with { Roles = [.. u.Roles.Append(role).Order(StringComparer.Ordinal)], Revision = rev })),
            CommandKind.UserRevokeRole => users.GetValueOrDefault(name) is not { } u ? Fail(AuthError.UserNotFound, "user name not found")
                : change.Role is not { } role || !u.Roles.Contains(role, StringComparer.Ordinal) ? Fail(AuthError.RoleNotGranted, "role is not granted to the user")
                : enabled && name == AuthUser.RootUser && role == AuthUser.RootRole ? Fail(AuthError.InvalidAuthManagement, "invalid auth management")
                : Run(() => SetUser(u, u with { Roles = [.. u.Roles.Where(r => r != role)], Revision = rev })),
            CommandKind.RoleAdd => name.Length == 0 ? Fail(AuthError.RoleEmpty, "role name is empty")
                : roles.ContainsKey(name) ? Fail(AuthError.RoleAlreadyExists, "role name already exists")
                : Run(() => SetRole(null, new AuthRole(name, []))),
            CommandKind.RoleDelete => roles.GetValueOrDefault(name) is not { } r ? Fail(AuthError.RoleNotFound, "role name not found")
                : enabled && name == AuthUser.RootRole ? Fail(AuthError.InvalidAuthManagement, "invalid auth management")
                : Run(() =>
                {
                    SetRole(r, null);
                    foreach (var u in users.Values.Where(u => u.Roles.Contains(name, StringComparer.Ordinal)).ToList())
                    {
                        SetUser(u, u with { Roles = [.. u.Roles.Where(x => x != name)], Revision = rev });
                    }
                }),
            CommandKind.RoleGrantPermission => roles.GetValueOrDefault(name) is not { } r ? Fail(AuthError.RoleNotFound, "role name not found")
                : change.Permission is not { } p ? Fail(AuthError.PermissionNotGranted, "permission not given")
                : Run(() => SetRole(r, r with { Permissions = Sorted(r.Permissions.Where(x => !x.SameRange(p.Key, p.RangeEnd)).Append(p)) })),
            CommandKind.RoleRevokePermission => roles.GetValueOrDefault(name) is not { } r ? Fail(AuthError.RoleNotFound, "role name not found")
                : change.Permission is not { } p || !r.Permissions.Any(x => x.SameRange(p.Key, p.RangeEnd)) ? Fail(AuthError.PermissionNotGranted, "permission is not granted to the role")
                : Run(() => SetRole(r, r with { Permissions = [.. r.Permissions.Where(x => !x.SameRange(p.Key, p.RangeEnd))] })),
            _ => throw new UnsupportedCommandVersionException($"unknown auth command kind {(byte)kind}"),
        };

        if (error is not null)
        {
            return (null, [], error);
        }

        ops.Add(WriteOp.Put(AuthKeys.StateKey, AuthKeys.EncodeState(enabled, rev)));
        return (Make(enabled, rev, tokenKey, users, roles), ops, null);

        AuthException? Enable()
        {
            if (users.GetValueOrDefault(AuthUser.RootUser) is not { } root)
            {
                return Fail(AuthError.RootUserNotExist, "root user does not exist");
            }

            if (!root.IsRoot)
            {
                return Fail(AuthError.RootRoleNotExist, "root user does not have root role");
            }

            enabled = true;
            if (tokenKey.Length == 0 && !(_keyFromLeader && change.Secret is null))
            {
                tokenKey = change.Secret is { Length: >= 32 } k ? k : throw new UnsupportedCommandVersionException("auth enable without a token key");
                ops.Add(WriteOp.Put(AuthKeys.TokenKey, tokenKey));
            }

            return null;
        }
    }

    private static AuthException? Run(Action action)
    {
        action();
        return null;
    }

    /// <summary>Deletes the records only in <paramref name="before"/> and puts those of <paramref name="after"/>
    /// that are new or changed (one op per key per batch).</summary>
    private static void Diff(List<WriteOp> ops, IEnumerable<(byte[] Key, byte[] Value)> before, IEnumerable<(byte[] Key, byte[] Value)> after)
    {
        var old = before.ToDictionary(r => Convert.ToHexString(r.Key), r => r.Value, StringComparer.Ordinal);
        foreach (var (key, value) in after)
        {
            var hex = Convert.ToHexString(key);
            if (!old.Remove(hex, out var was) || !was.AsSpan().SequenceEqual(value))
            {
                ops.Add(WriteOp.Put(key, value));
            }
        }

        foreach (var hex in old.Keys)
        {
            ops.Add(WriteOp.Delete(Convert.FromHexString(hex)));
        }
    }

    private sealed class ByteOrder : IComparer<byte[]>
    {
        public static readonly ByteOrder Instance = new();

        public int Compare(byte[]? x, byte[]? y) => x.AsSpan().SequenceCompareTo(y);
    }
}
