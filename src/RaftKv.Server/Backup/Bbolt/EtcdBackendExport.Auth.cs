using System.Buffers.Binary;
using System.Text;
using Google.Protobuf;
using RaftKv.Replication.Api;
using RaftKv.Server.Security.Auth;
using Authpb = RaftKv.Protocol.Etcd.Authpb;

namespace RaftKv.Server.Backup.Bbolt;

/// <summary>
/// The member's auth state in etcd 3.4's auth buckets (<c>auth/store.go</c>), so an etcd restored from the file keeps
/// the users and roles:
/// <list type="bullet">
/// <item><c>auth</c>: <c>authEnabled</c> → one byte (1 or 0), <c>authRevision</c> → u64be (RaftKv's auth revision;
/// etcd moves a 0 to 1 when it starts).</item>
/// <item><c>authUsers</c>: name (UTF-8) → <c>authpb.User{name, password, roles, options{no_password}}</c>, roles in
/// byte order (etcd binary-searches them). The password: a user whose record is bcrypt (<see cref="PasswordHasher.Bcrypt"/>,
/// set through etcd's <c>hashedPassword</c> or imported from etcd) gets that hash's text, which etcd verifies — the same
/// password works. A user with an Argon2id record (any password set on RaftKv) gets an empty password and
/// <c>no_password</c> false: etcd cannot verify Argon2id and no password is invented, so nobody logs in as that user
/// with a password until an operator sets one on etcd (<c>etcdctl user passwd</c>); a TLS client certificate with the
/// user's name still identifies it, as on RaftKv. A user without a record gets <c>no_password</c> true.</item>
/// <item><c>authRoles</c>: name → <c>authpb.Role{name, keyPermission}</c>, permissions in key order (etcd's order),
/// with RaftKv's type, key and range end unchanged (same numbers and encoding as etcd's).</item>
/// </list>
/// </summary>
public static partial class EtcdBackendExport
{
    /// <summary>Users whose password etcd cannot verify (an Argon2id record): exported without one.</summary>
    public static int UsersWithoutEtcdPassword(AuthState auth)
        => auth.Users.Values.Count(u => PasswordHasher.SchemeOf(u.PasswordHash) is not (0 or PasswordHasher.Bcrypt));

    internal static List<(byte[], byte[])> AuthBucket(AuthState auth)
    {
        var revision = new byte[8];
        BinaryPrimitives.WriteInt64BigEndian(revision, auth.Revision);
        return [("authEnabled"u8.ToArray(), [auth.Enabled ? (byte)1 : (byte)0]), ("authRevision"u8.ToArray(), revision)];
    }

    internal static List<(byte[], byte[])> UsersBucket(AuthState auth)
    {
        var users = new List<(byte[], byte[])>(auth.Users.Count);
        foreach (var u in auth.Users.Values)
        {
            var name = Encoding.UTF8.GetBytes(u.Name);
            var record = new Authpb.User
            {
                Name = ByteString.CopyFrom(name),
                Password = PasswordHasher.SchemeOf(u.PasswordHash) == PasswordHasher.Bcrypt ? ByteString.CopyFrom(u.PasswordHash.AsSpan(1)) : ByteString.Empty,
                Options = new Authpb.UserAddOptions { NoPassword = u.PasswordHash is null },
            };
            record.Roles.AddRange(u.Roles.OrderBy(Encoding.UTF8.GetBytes, ByteOrder.Instance));
            users.Add((name, record.ToByteArray()));
        }

        users.Sort((a, b) => a.Item1.AsSpan().SequenceCompareTo(b.Item1));
        return users;
    }

    internal static List<(byte[], byte[])> RolesBucket(AuthState auth)
    {
        var roles = new List<(byte[], byte[])>(auth.Roles.Count);
        foreach (var r in auth.Roles.Values)
        {
            var name = Encoding.UTF8.GetBytes(r.Name);
            var record = new Authpb.Role { Name = ByteString.CopyFrom(name) };
            foreach (var p in r.Permissions.OrderBy(p => p.Key, ByteOrder.Instance).ThenBy(p => p.RangeEnd, ByteOrder.Instance))
            {
                record.KeyPermission.Add(new Authpb.Permission
                {
                    PermType = (Authpb.Permission.Types.Type)p.Type,
                    Key = ByteString.CopyFrom(p.Key),
                    RangeEnd = ByteString.CopyFrom(p.RangeEnd),
                });
            }

            roles.Add((name, record.ToByteArray()));
        }

        roles.Sort((a, b) => a.Item1.AsSpan().SequenceCompareTo(b.Item1));
        return roles;
    }

    private sealed class ByteOrder : IComparer<byte[]>
    {
        public static readonly ByteOrder Instance = new();

        public int Compare(byte[]? x, byte[]? y) => x.AsSpan().SequenceCompareTo(y);
    }
}
