using System.Buffers.Binary;
using System.Collections.Frozen;
using System.Text;
using Google.Protobuf;
using Microsoft.Extensions.Logging.Abstractions;
using RaftKv.Replication.Api;
using RaftKv.Replication.Backup;
using RaftKv.Server.Backup.Bbolt;
using RaftKv.Server.Security.Auth;
using Authpb = RaftKv.Protocol.Etcd.Authpb;

namespace RaftKv.Server.Tests.Backup;

/// <summary>
/// etcd's auth buckets (<c>auth</c>, <c>authUsers</c>, <c>authRoles</c>) both ways: what <see cref="EtcdBackendExport"/>
/// writes for a RaftKv auth state, read back by <see cref="EtcdBackendImport"/> (bcrypt hashes carried as RaftKv's bcrypt
/// records and verifying the same password, Argon2id passwords exported as none, no-password users, permissions exactly);
/// etcd's own records (authpb messages as etcd 3.4 writes them); and damaged or unimportable records refused with
/// their <see cref="SnapshotFileError"/>, with no data directory left by <c>raftkv restore</c>'s import.
/// </summary>
public sealed class EtcdAuthBucketsTests : IDisposable
{
    private static readonly string Hash = BCrypt.Net.BCrypt.HashPassword("alice-pw", workFactor: 4);

    private readonly string _root = Path.Combine(Path.GetTempPath(), "raftkv-etcd-auth-buckets-" + Guid.NewGuid().ToString("N"));

    private static byte[] B(string s) => Encoding.UTF8.GetBytes(s);

    [Fact]
    public async Task ExportedBucketsReadBackAsTheSameUsersAndRoles()
    {
        var argon = new PasswordHasher(memoryKiB: 64, iterations: 1).Hash("set-on-raftkv");
        var state = new AuthState(
            true,
            17,
            new byte[32],
            new Dictionary<string, AuthUser>
            {
                ["root"] = new("root", PasswordHasher.FromBcrypt(Hash), ["root"], 3),
                ["alice"] = new("alice", PasswordHasher.FromBcrypt(Hash), ["r1", "r2"], 5),
                ["argon"] = new("argon", argon, ["r1"], 6),
                ["cert"] = new("cert", null, [], 7),
            }.ToFrozenDictionary(StringComparer.Ordinal),
            new Dictionary<string, AuthRole>
            {
                ["r1"] = new("r1", [new(AuthPermissionType.Read, B("k"), []), new(AuthPermissionType.ReadWrite, B("p/"), B("p0"))]),
                ["r2"] = new("r2", [new(AuthPermissionType.Write, B("a"), B("c")), new(AuthPermissionType.Read, B("z"), [0])]),
            }.ToFrozenDictionary(StringComparer.Ordinal));

        Assert.Equal(1, EtcdBackendExport.UsersWithoutEtcdPassword(state));
        var auth = EtcdBackendImport.ReadAuth(await RawDbAsync(EtcdBackendExport.AuthBucket(state), EtcdBackendExport.UsersBucket(state), EtcdBackendExport.RolesBucket(state)));
        Assert.True(auth.Enabled);
        Assert.Equal(17, auth.Revision);
        var users = auth.Users.ToDictionary(u => u.Name);
        Assert.Equal(["alice", "argon", "cert", "root"], users.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(PasswordHasher.FromBcrypt(Hash), users["alice"].PasswordRecord);
        Assert.True(PasswordHasher.Verify("alice-pw", users["alice"].PasswordRecord));
        Assert.Null(users["argon"].PasswordRecord); // no password etcd could verify: none, never an invented one
        Assert.Null(users["cert"].PasswordRecord);
        Assert.Equal(["r1", "r2"], users["alice"].Roles);
        Assert.Equal(["root"], users["root"].Roles);
        var roles = auth.Roles.ToDictionary(r => r.Name);
        foreach (var (name, role) in state.Roles)
        {
            Assert.Equal(role.Permissions, roles[name].Permissions, (a, b) => a.Type == b.Type && a.SameRange(b.Key, b.RangeEnd));
        }

        // The user records themselves, as etcd reads them: the bcrypt text as the password, no_password only for "cert".
        var records = EtcdBackendExport.UsersBucket(state).ToDictionary(u => Encoding.UTF8.GetString(u.Item1), u => Authpb.User.Parser.ParseFrom(u.Item2));
        Assert.Equal(Hash, records["alice"].Password.ToStringUtf8());
        Assert.True(records["argon"].Password.IsEmpty);
        Assert.False(records["argon"].Options.NoPassword);
        Assert.True(records["cert"].Options.NoPassword);
    }

    [Fact]
    public async Task ReadsEtcdsOwnRecords()
    {
        var auth = EtcdBackendImport.ReadAuth(await DbAsync(
            [("authEnabled", [1]), ("authRevision", U64(9))],
            [User("bob", Hash, ["reader"]), User("carol", "", [], noPassword: true), User("dave", "", [])],
            [Role("reader", (Authpb.Permission.Types.Type.Readwrite, "x/", "x0"))]));
        Assert.True(auth.Enabled);
        Assert.Equal(9, auth.Revision);
        Assert.Equal([PasswordHasher.Bcrypt], auth.Users.Select(u => PasswordHasher.SchemeOf(u.PasswordRecord)).Where(s => s != 0));
        Assert.Null(auth.Users.Single(u => u.Name == "carol").PasswordRecord);
        Assert.Null(auth.Users.Single(u => u.Name == "dave").PasswordRecord); // an empty hash: no password etcd would accept either
        Assert.Equal(AuthPermissionType.ReadWrite, auth.Roles.Single().Permissions.Single().Type);

        var off = EtcdBackendImport.ReadAuth(await DbAsync([("authEnabled", [0])], [], []));
        Assert.False(off.Enabled);
        Assert.Equal(0, off.Revision);
    }

    [Fact]
    public async Task RefusesDamagedOrUnimportableRecords()
    {
        async Task Refused(SnapshotFileError error, string because, List<(string, byte[])> auth, List<(byte[], byte[])> users, List<(byte[], byte[])> roles)
        {
            var db = await DbAsync(auth, users, roles);
            var e = Assert.Throws<SnapshotFileException>(() => EtcdBackendImport.ReadAuth(db));
            Assert.Equal(error, e.Error);
            Assert.Contains(because, e.Message, StringComparison.Ordinal);
        }

        await Refused(SnapshotFileError.Corrupt, "unreadable record for user \"bob\"", [], [(B("bob"), [0xFF, 0xFF, 0xFF])], []);
        await Refused(SnapshotFileError.Corrupt, "under user \"bob\"", [], [(B("bob"), User("eve", Hash, []).Item2)], []);
        await Refused(SnapshotFileError.UnsupportedAuth, "not bcrypt", [], [User("bob", "sha256:abcdef", [])], []);
        await Refused(SnapshotFileError.UnsupportedAuth, "cost 31", [], [User("bob", "$2a$31$" + Hash[7..], [])], []);
        await Refused(SnapshotFileError.UnsupportedAuth, "not UTF-8", [], [([0xC3, 0x28], User("x", Hash, []).Item2)], []);
        await Refused(SnapshotFileError.Corrupt, "unreadable record for role \"r\"", [], [], [(B("r"), [0x0A, 0x50])]);
        await Refused(SnapshotFileError.UnsupportedAuth, "unknown type 7", [], [], [Role("r", ((Authpb.Permission.Types.Type)7, "k", ""))]);
        await Refused(SnapshotFileError.Corrupt, "authRevision of 4 bytes", [("authRevision", [0, 0, 0, 1])], [], []);
    }

    [Fact]
    public async Task AnImportRefusedForItsAuthWritesNothing()
    {
        var file = Path.Combine(_root, "etcd.db");
        Directory.CreateDirectory(_root);
        await using (var f = File.Create(file))
        {
            var writer = new BboltWriter(f);
            await writer.AddBucketAsync(B("auth"), AsyncEnumerable.Empty<(byte[], byte[])>(), CancellationToken.None);
            await writer.AddBucketAsync(B("authRoles"), AsyncEnumerable.Empty<(byte[], byte[])>(), CancellationToken.None);
            await writer.AddBucketAsync(B("authUsers"), new[] { User("bob", Hash, ["missing"]) }.ToAsyncEnumerable(), CancellationToken.None);
            await writer.AddBucketAsync(B("key"), AsyncEnumerable.Empty<(byte[], byte[])>(), CancellationToken.None);
            writer.Complete();
        }

        var dataDir = Path.Combine(_root, "data");
        var e = await Assert.ThrowsAsync<SnapshotFileException>(() => EtcdBackendImport.RestoreAsync(file, dataDir, 1, NullLoggerFactory.Instance, null));
        Assert.Equal(SnapshotFileError.UnsupportedAuth, e.Error);
        Assert.Contains("RoleNotFound", e.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(dataDir), "a refused import leaves nothing");
    }

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    private static byte[] U64(long v)
    {
        var b = new byte[8];
        BinaryPrimitives.WriteInt64BigEndian(b, v);
        return b;
    }

    private static (byte[], byte[]) User(string name, string password, string[] roles, bool noPassword = false)
    {
        var u = new Authpb.User { Name = ByteString.CopyFromUtf8(name), Password = ByteString.CopyFromUtf8(password), Options = new Authpb.UserAddOptions { NoPassword = noPassword } };
        u.Roles.AddRange(roles);
        return (B(name), u.ToByteArray());
    }

    private static (byte[], byte[]) Role(string name, params (Authpb.Permission.Types.Type Type, string Key, string End)[] perms)
    {
        var r = new Authpb.Role { Name = ByteString.CopyFromUtf8(name) };
        foreach (var (type, key, end) in perms)
        {
            r.KeyPermission.Add(new Authpb.Permission { PermType = type, Key = ByteString.CopyFromUtf8(key), RangeEnd = ByteString.CopyFromUtf8(end) });
        }

        return (B(name), r.ToByteArray());
    }

    private static Task<BboltReader> DbAsync(List<(string, byte[])> auth, List<(byte[], byte[])> users, List<(byte[], byte[])> roles)
        => RawDbAsync(auth.Select(a => (B(a.Item1), a.Item2)).ToList(), users, roles);

    private static async Task<BboltReader> RawDbAsync(List<(byte[], byte[])> auth, List<(byte[], byte[])> users, List<(byte[], byte[])> roles)
    {
        var file = new MemoryStream();
        var writer = new BboltWriter(file);
        await writer.AddBucketAsync(B("auth"), auth.OrderBy(a => a.Item1, Comparer<byte[]>.Create((x, y) => x.AsSpan().SequenceCompareTo(y))).ToAsyncEnumerable(), CancellationToken.None);
        await writer.AddBucketAsync(B("authRoles"), roles.ToAsyncEnumerable(), CancellationToken.None);
        await writer.AddBucketAsync(B("authUsers"), users.ToAsyncEnumerable(), CancellationToken.None);
        writer.Complete();
        return new BboltReader(file);
    }
}
