using System.Text;
using RaftKv.Replication.Api;
using RaftKv.Replication.State;
using RaftKv.Storage;

namespace RaftKv.Replication.Auth;

/// <summary>
/// Where the auth state lives in the LSM: under <see cref="ReservedKeys.Prefix"/> (0x00 0xFF) + <c>"auth/"</c>,
/// so it is part of every snapshot and checkpoint, survives restarts and is invisible to client reads.
/// </summary>
/// <remarks>
/// On-disk layout, version 1. Every value is at most <see cref="Storage.Tables.KeysFile.InlineValueMaxBytes"/>
/// (48) bytes, so archived tables keep it in their local keys file and loading never needs the object store;
/// whatever may be longer (permission keys, names) is in the record's key. <c>len</c> is a varint length,
/// names are UTF-8.
/// <list type="bullet">
/// <item><c>auth/state</c> → <c>fmt:u8 (1) enabled:u8 revision:varint</c>.</item>
/// <item><c>auth/key</c> → the 32-byte token signing key.</item>
/// <item><c>auth/u/ name</c> → <c>fmt:u8 (1) revision:varint hasPassword:u8</c> (a user).</item>
/// <item><c>auth/uh/ len name chunk:u8</c> → up to 48 bytes of the user's password hash record, chunk 0, 1, …
/// (the record is opaque here: Server/Security/Auth/PasswordHasher.cs).</item>
/// <item><c>auth/ur/ len name role</c> → empty (a role granted to the user).</item>
/// <item><c>auth/r/ role</c> → <c>fmt:u8 (1)</c> (a role).</item>
/// <item><c>auth/rp/ len role len key rangeEnd</c> → <c>type:u8</c> (a permission of the role).</item>
/// </list>
/// </remarks>
internal static class AuthKeys
{
    public const byte FormatVersion = 1;

    public const int ChunkBytes = 48;

    public static readonly byte[] Prefix = [.. ReservedKeys.Prefix, .. "auth/"u8];

    public static readonly byte[] StateKey = [.. Prefix, .. "state"u8];

    public static readonly byte[] TokenKey = [.. Prefix, .. "key"u8];

    private static readonly byte[] UserPrefix = [.. Prefix, .. "u/"u8];
    private static readonly byte[] HashPrefix = [.. Prefix, .. "uh/"u8];
    private static readonly byte[] UserRolePrefix = [.. Prefix, .. "ur/"u8];
    private static readonly byte[] RolePrefix = [.. Prefix, .. "r/"u8];
    private static readonly byte[] PermPrefix = [.. Prefix, .. "rp/"u8];

    /// <summary>[start, end) of every auth record.</summary>
    public static (byte[] Start, byte[] End) Range => (Prefix, KeyRanges.PrefixEnd(Prefix));

    public static byte[] EncodeState(bool enabled, long revision)
    {
        var b = new List<byte>(12) { FormatVersion, enabled ? (byte)1 : (byte)0 };
        Varint.Write(b, (ulong)revision);
        return [.. b];
    }

    /// <summary>Every record of <paramref name="user"/> (key → value).</summary>
    public static IEnumerable<(byte[] Key, byte[] Value)> UserRecords(AuthUser user)
    {
        var name = Encoding.UTF8.GetBytes(user.Name);
        var head = new List<byte> { FormatVersion };
        Varint.Write(head, (ulong)user.Revision);
        head.Add(user.PasswordHash is null ? (byte)0 : (byte)1);
        yield return ([.. UserPrefix, .. name], [.. head]);
        if (user.PasswordHash is { } hash)
        {
            for (int i = 0, chunk = 0; i < hash.Length; i += ChunkBytes, chunk++)
            {
                yield return ([.. Scoped(HashPrefix, name), (byte)chunk], hash.AsSpan(i, Math.Min(ChunkBytes, hash.Length - i)).ToArray());
            }
        }

        foreach (var role in user.Roles)
        {
            yield return ([.. Scoped(UserRolePrefix, name), .. Encoding.UTF8.GetBytes(role)], []);
        }
    }

    /// <summary>Every record of <paramref name="role"/> (key → value).</summary>
    public static IEnumerable<(byte[] Key, byte[] Value)> RoleRecords(AuthRole role)
    {
        var name = Encoding.UTF8.GetBytes(role.Name);
        yield return ([.. RolePrefix, .. name], [FormatVersion]);
        foreach (var p in role.Permissions)
        {
            var k = new List<byte>(Scoped(PermPrefix, name));
            Varint.WriteBytes(k, p.Key);
            k.AddRange(p.RangeEnd);
            yield return ([.. k], [(byte)p.Type]);
        }
    }

    /// <summary>Rebuilds the state from the records in <paramref name="store"/> (local metadata only).</summary>
    public static AuthState Load(IKvStore store)
    {
        var (start, end) = Range;
        bool enabled = false;
        long revision = 0;
        byte[] tokenKey = [];
        var users = new Dictionary<string, (long Revision, bool HasPassword)>(StringComparer.Ordinal);
        var hashes = new Dictionary<string, SortedDictionary<byte, byte[]>>(StringComparer.Ordinal);
        var userRoles = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        var roles = new Dictionary<string, List<AuthPermission>>(StringComparer.Ordinal);
        var perms = new List<(string Role, AuthPermission Permission)>();
        foreach (var m in store.ScanMetadata(start, end, 0, 0))
        {
            var key = m.Key.ToArray();
            var value = (store.GetMetadata(m.Key, 0)?.LocalValue
                ?? throw new InvalidOperationException("an auth record's value is not local (keys files keep values this short)")).ToArray();
            var pos = 0;
            if (key.AsSpan().SequenceEqual(StateKey))
            {
                CheckVersion(value);
                enabled = value[1] != 0;
                pos = 2;
                revision = (long)Varint.Read(value, ref pos);
            }
            else if (key.AsSpan().SequenceEqual(TokenKey))
            {
                tokenKey = value;
            }
            else if (key.AsSpan().StartsWith(HashPrefix))
            {
                var (name, rest) = Unscope(key, HashPrefix.Length);
                (hashes.TryGetValue(name, out var chunks) ? chunks : hashes[name] = [])[rest[0]] = value;
            }
            else if (key.AsSpan().StartsWith(UserRolePrefix))
            {
                var (name, rest) = Unscope(key, UserRolePrefix.Length);
                (userRoles.TryGetValue(name, out var list) ? list : userRoles[name] = []).Add(Encoding.UTF8.GetString(rest));
            }
            else if (key.AsSpan().StartsWith(UserPrefix))
            {
                CheckVersion(value);
                pos = 1;
                var userRevision = (long)Varint.Read(value, ref pos);
                users[Encoding.UTF8.GetString(key.AsSpan(UserPrefix.Length))] = (userRevision, value[pos] != 0);
            }
            else if (key.AsSpan().StartsWith(PermPrefix))
            {
                var (role, rest) = Unscope(key, PermPrefix.Length);
                var p = 0;
                var permKey = Varint.ReadBytes(rest, ref p);
                perms.Add((role, new AuthPermission((AuthPermissionType)value[0], permKey, rest[p..])));
            }
            else if (key.AsSpan().StartsWith(RolePrefix))
            {
                CheckVersion(value);
                roles[Encoding.UTF8.GetString(key.AsSpan(RolePrefix.Length))] = [];
            }
        }

        foreach (var (role, p) in perms)
        {
            if (roles.TryGetValue(role, out var list))
            {
                list.Add(p);
            }
        }

        var userMap = users.ToDictionary(
            u => u.Key,
            u => new AuthUser(
                u.Key,
                u.Value.HasPassword && hashes.TryGetValue(u.Key, out var chunks) ? [.. chunks.Values.SelectMany(c => c)] : null,
                userRoles.TryGetValue(u.Key, out var r) ? [.. r.Order(StringComparer.Ordinal)] : [],
                u.Value.Revision),
            StringComparer.Ordinal);
        var roleMap = roles.ToDictionary(r => r.Key, r => new AuthRole(r.Key, AuthTable.Sorted(r.Value)), StringComparer.Ordinal);
        return AuthTable.Make(enabled, revision, tokenKey, userMap, roleMap);
    }

    private static List<byte> Scoped(byte[] prefix, byte[] name)
    {
        var b = new List<byte>(prefix.Length + name.Length + 8);
        b.AddRange(prefix);
        Varint.WriteBytes(b, name);
        return b;
    }

    private static (string Name, byte[] Tail) Unscope(byte[] key, int offset)
    {
        var pos = offset;
        var name = Varint.ReadBytes(key, ref pos);
        return (Encoding.UTF8.GetString(name), key[pos..]);
    }

    private static void CheckVersion(byte[] value)
    {
        if (value.Length == 0 || value[0] != FormatVersion)
        {
            throw new FormatException($"auth record has unknown format version {(value.Length > 0 ? value[0] : 0)}");
        }
    }
}
