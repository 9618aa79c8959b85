using System.Buffers.Binary;
using System.Text;
using Google.Protobuf;
using RaftKv.Protocol.Etcd.Authpb;
using RaftKv.Replication.Api;
using RaftKv.Replication.Backup;
using RaftKv.Server.Security.Auth;

namespace RaftKv.Server.Backup.Bbolt;

/// <summary>
/// etcd's auth buckets, as etcd 3.4/3.5 write them (<c>auth/store.go</c>), read for <see cref="EtcdImport"/>:
/// <list type="bullet">
/// <item><c>auth</c>: <c>authEnabled</c> → one byte (1 = enabled; anything else disabled, as etcd reads it),
/// <c>authRevision</c> → u64be.</item>
/// <item><c>authUsers</c>: user name → <c>authpb.User{name, password, roles, options{no_password}}</c>
/// (proto/etcd/authpb/auth.proto); <c>password</c> is the bcrypt hash's text (<c>$2a$10$…</c>).</item>
/// <item><c>authRoles</c>: role name → <c>authpb.Role{name, keyPermission[]{permType, key, range_end}}</c>.</item>
/// </list>
/// Mapping: a bcrypt hash becomes RaftKv's bcrypt record (<see cref="PasswordHasher.FromBcrypt"/>, alg 2: the same
/// passwords work); <c>no_password</c> or an empty hash (a user etcd lets in only by TLS client certificate) becomes a
/// user without a password record, which RaftKv treats the same way; permissions keep etcd's type, key and range end.
/// Refused (<see cref="SnapshotFileException"/>): a record that does not parse or whose name is not its bucket key
/// (<see cref="SnapshotFileError.Corrupt"/>); a hash RaftKv does not accept (not bcrypt, cost outside 4-16), a name
/// that is not UTF-8, an unknown permission type (<see cref="SnapshotFileError.UnsupportedAuth"/>). Roles granted but
/// missing and etcd's other rules are checked by the import itself (Replication/Backup/EtcdAuthImport.cs).
/// </summary>
public static partial class EtcdBackendImport
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>The auth state of the etcd backend <paramref name="db"/> (empty when it has no auth buckets).</summary>
    /// <exception cref="SnapshotFileException">A record is damaged or cannot be imported.</exception>
    internal static EtcdAuth ReadAuth(BboltReader db)
    {
        bool enabled = false;
        long revision = 0;
        foreach (var (k, v) in db.Bucket("auth"u8) ?? [])
        {
            if (k.AsSpan().SequenceEqual("authEnabled"u8))
            {
                enabled = v is [1];
            }
            else if (k.AsSpan().SequenceEqual("authRevision"u8))
            {
                revision = v.Length == 8 && BinaryPrimitives.ReadInt64BigEndian(v) is >= 0 and var r
                    ? r
                    : throw new SnapshotFileException(SnapshotFileError.Corrupt, $"etcd's auth bucket holds an authRevision of {v.Length} bytes that is not a u64 revision");
            }
        }

        var users = (db.Bucket("authUsers"u8) ?? []).Select(u => ParseUser(u.Key, u.Value)).ToList();
        var roles = (db.Bucket("authRoles"u8) ?? []).Select(r => ParseRole(r.Key, r.Value)).ToList();
        return new EtcdAuth(enabled, revision, users, roles);
    }

    private static EtcdUser ParseUser(byte[] key, byte[] value)
    {
        var (name, user) = Record(User.Parser, key, value, "authUsers", "user", u => u.Name);

        byte[]? record = null;
        if (user.Options?.NoPassword != true && !user.Password.IsEmpty)
        {
            var hash = user.Password.Span;
            if (!hash.StartsWith("$2"u8) || hash.ContainsAnyExceptInRange((byte)0x21, (byte)0x7E))
            {
                throw new SnapshotFileException(SnapshotFileError.UnsupportedAuth, $"etcd's user \"{name}\" has a password hash that is not bcrypt: RaftKv cannot verify it");
            }

            try
            {
                record = PasswordHasher.FromBcrypt(Encoding.ASCII.GetString(hash));
            }
            catch (ArgumentException e)
            {
                throw new SnapshotFileException(SnapshotFileError.UnsupportedAuth, $"etcd's user \"{name}\" has a password hash RaftKv refuses: {e.Message}");
            }
        }

        return new EtcdUser(name, record, [.. user.Roles]);
    }

    private static AuthRole ParseRole(byte[] key, byte[] value)
    {
        var (name, role) = Record(Role.Parser, key, value, "authRoles", "role", r => r.Name);

        var permissions = new List<AuthPermission>(role.KeyPermission.Count);
        foreach (var p in role.KeyPermission)
        {
            if (p.PermType is not (Permission.Types.Type.Read or Permission.Types.Type.Write or Permission.Types.Type.Readwrite))
            {
                throw new SnapshotFileException(SnapshotFileError.UnsupportedAuth, $"etcd's role \"{name}\" has a permission of unknown type {(int)p.PermType}");
            }

            permissions.Add(new AuthPermission((AuthPermissionType)p.PermType, p.Key.ToByteArray(), p.RangeEnd.ToByteArray()));
        }

        return new AuthRole(name, permissions);
    }

    /// <summary>A user or role record of <paramref name="bucket"/>: its name (the bucket key, UTF-8) and the parsed
    /// protobuf, whose own name must be that key.</summary>
    private static (string Name, T Record) Record<T>(MessageParser<T> parser, byte[] key, byte[] value, string bucket, string what, Func<T, ByteString> nameOf)
        where T : IMessage<T>
    {
        var name = Name(key, what);
        T record;
        try
        {
            record = parser.ParseFrom(value);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new SnapshotFileException(SnapshotFileError.Corrupt, $"etcd's {bucket} bucket holds an unreadable record for {what} \"{name}\": {e.Message}");
        }

        return nameOf(record).Span.SequenceEqual(key)
            ? (name, record)
            : throw new SnapshotFileException(SnapshotFileError.Corrupt, $"etcd's {bucket} bucket holds a record named \"{nameOf(record).ToStringUtf8()}\" under {what} \"{name}\"");
    }

    private static string Name(byte[] key, string what)
    {
        try
        {
            return StrictUtf8.GetString(key);
        }
        catch (DecoderFallbackException)
        {
            throw new SnapshotFileException(SnapshotFileError.UnsupportedAuth, $"etcd's {what} name {Convert.ToHexString(key)} (hex) is not UTF-8: RaftKv's names are text");
        }
    }
}
