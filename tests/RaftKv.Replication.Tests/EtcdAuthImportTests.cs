using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using RaftKv.Replication.Api;
using RaftKv.Replication.Auth;
using RaftKv.Replication.Backup;
using RaftKv.Replication.Commands;
using RaftKv.Storage;
using RaftKv.Storage.IO;

namespace RaftKv.Replication.Tests;

/// <summary>
/// etcd's users, roles and auth flag through <see cref="EtcdImport"/> (<see cref="EtcdAuthImport"/>): the restored
/// store holds exactly the records the applier writes after the same etcdctl commands (compared with a table driven
/// like the applier), the auth revision is at least etcd's, an enabled state waits for its token key, which the
/// first leader of the restored cluster proposes; a state the applier's rules refuse is refused with
/// <see cref="SnapshotFileError.UnsupportedAuth"/> and leaves no data directory.
/// </summary>
public sealed class EtcdAuthImportTests : IDisposable
{
    private static readonly byte[] Bcrypt = [2, .. "$2a$04$abcdefghijklmnopqrstuu0123456789012345678901234567890"u8];

    private readonly string _root = Path.Combine(Path.GetTempPath(), "raftkv-etcd-auth-import-" + Guid.NewGuid().ToString("N"));

    private static byte[] B(string s) => Encoding.UTF8.GetBytes(s);

    private static EtcdAuth Sample(bool enabled, long revision) => new(
        enabled,
        revision,
        [
            new EtcdUser("root", Bcrypt, ["root"]),
            new EtcdUser("alice", Bcrypt, ["writer", "reader"]),
            new EtcdUser("cert-only", null, ["reader"]),
        ],
        [
            new AuthRole("writer", [new AuthPermission(AuthPermissionType.ReadWrite, B("p/"), B("p0"))]),
            new AuthRole("reader", [new AuthPermission(AuthPermissionType.Read, B("k"), []), new AuthPermission(AuthPermissionType.Write, B("a"), B("c"))]),
        ]);

    [Fact]
    public async Task ImportsTheStateTheApplierHoldsAfterTheSameCommands()
    {
        var dir = Path.Combine(_root, "one");
        var r = await EtcdImport.RestoreAsync([], 0, [], Sample(enabled: true, revision: 40), dir, 5, NullLoggerFactory.Instance, null);
        var loaded = await LoadAsync(dir);

        // The applier's table after etcdctl's commands in the import's order (roles, then users, then auth enable).
        var t = new AuthTable();
        void Do(CommandKind kind, AuthChange change) => Assert.Null(Apply(t, kind, change));
        Do(CommandKind.RoleAdd, new AuthChange("reader"));
        Do(CommandKind.RoleGrantPermission, new AuthChange("reader", Permission: new AuthPermission(AuthPermissionType.Read, B("k"), [])));
        Do(CommandKind.RoleGrantPermission, new AuthChange("reader", Permission: new AuthPermission(AuthPermissionType.Write, B("a"), B("c"))));
        Do(CommandKind.RoleAdd, new AuthChange("writer"));
        Do(CommandKind.RoleGrantPermission, new AuthChange("writer", Permission: new AuthPermission(AuthPermissionType.ReadWrite, B("p/"), B("p0"))));
        Do(CommandKind.UserAdd, new AuthChange("alice", Secret: Bcrypt));
        Do(CommandKind.UserGrantRole, new AuthChange("alice", "reader"));
        Do(CommandKind.UserGrantRole, new AuthChange("alice", "writer"));
        Do(CommandKind.UserAdd, new AuthChange("cert-only"));
        Do(CommandKind.UserGrantRole, new AuthChange("cert-only", "reader"));
        Do(CommandKind.UserAdd, new AuthChange("root", Secret: Bcrypt));
        Do(CommandKind.UserGrantRole, new AuthChange("root", "root"));
        Do(CommandKind.AuthEnable, new AuthChange(Secret: new byte[32]));
        var expected = t.Current;

        Assert.Equal(Records(expected), Records(loaded));
        Assert.Equal(Records(expected), Records(r.Auth));
        Assert.True(loaded.Enabled);
        Assert.Equal(40, loaded.Revision); // etcd's revision (above the 13 replayed changes)
        Assert.Empty(loaded.TokenKey); // no member draws the key alone: the first leader proposes it
        Assert.Null(loaded.User("cert-only")!.PasswordHash);
        Assert.True(loaded.IsPermitted(loaded.User("alice")!, B("p/x"), [], write: true));
        Assert.True(loaded.IsPermitted(loaded.User("alice")!, B("b"), [], write: true));
        Assert.False(loaded.IsPermitted(loaded.User("alice")!, B("b"), [], write: false));
        Assert.False(loaded.IsPermitted(loaded.User("cert-only")!, B("q"), [], write: false));

        // Below the replayed count, the replayed revision stands (it moved with every change); disabled stays disabled.
        var low = await EtcdImport.RestoreAsync([], 0, [], Sample(enabled: false, revision: 1), Path.Combine(_root, "two"), 5, NullLoggerFactory.Instance, null);
        Assert.False(low.Auth.Enabled);
        Assert.Equal(expected.Revision - 1, low.Auth.Revision); // every change but the enable
        Assert.Equal(Records(low.Auth), Records(await LoadAsync(Path.Combine(_root, "two"))));

        // No auth at all: no auth records.
        var none = await EtcdImport.RestoreAsync([], 0, [], EtcdAuth.None, Path.Combine(_root, "three"), 5, NullLoggerFactory.Instance, null);
        Assert.Equal((0, 0, 0L), (none.Auth.Users.Count, none.Auth.Roles.Count, none.Auth.Revision));
    }

    [Fact]
    public async Task RefusesWhatTheApplierRefusesAndWritesNothing()
    {
        async Task Refused(EtcdAuth auth, string because)
        {
            var dir = Path.Combine(_root, Guid.NewGuid().ToString("N"));
            var e = await Assert.ThrowsAsync<SnapshotFileException>(() => EtcdImport.RestoreAsync([], 0, [], auth, dir, 1, NullLoggerFactory.Instance, null));
            Assert.Equal(SnapshotFileError.UnsupportedAuth, e.Error);
            Assert.Contains(because, e.Message, StringComparison.Ordinal);
            Assert.False(Directory.Exists(dir), "a refused import leaves nothing");
        }

        await Refused(new EtcdAuth(false, 3, [new EtcdUser("alice", Bcrypt, ["missing"])], []), nameof(AuthError.RoleNotFound));
        await Refused(new EtcdAuth(true, 3, [new EtcdUser("root", Bcrypt, [])], []), nameof(AuthError.RootRoleNotExist));
        await Refused(new EtcdAuth(true, 3, [], []), nameof(AuthError.RootUserNotExist));
        await Refused(new EtcdAuth(false, 3, [new EtcdUser("a", null, []), new EtcdUser("a", null, [])], []), nameof(AuthError.UserAlreadyExists));
        await Refused(new EtcdAuth(false, 3, [], [new AuthRole("", [])]), nameof(AuthError.RoleEmpty));
    }

    [Fact]
    public void OnlyTheImportTableEnablesWithoutAKey()
    {
        var applier = new AuthTable();
        Assert.Null(Apply(applier, CommandKind.UserAdd, new AuthChange("root")));
        Assert.Null(Apply(applier, CommandKind.UserGrantRole, new AuthChange("root", "root")));
        Assert.Throws<UnsupportedCommandVersionException>(() => applier.Change(CommandKind.AuthEnable, new AuthChange()));
    }

    [Fact]
    public async Task TheFirstLeaderProposesTheTokenKeyOfAnImportedEnabledState()
    {
        var dir = Path.Combine(_root, "node");
        await EtcdImport.RestoreAsync([], 0, [], Sample(enabled: true, revision: 40), dir, 5, NullLoggerFactory.Instance, null);
        var imported = await LoadAsync(dir);
        var raft = $"127.0.0.1:{TestCluster.FreePort()}";
        await using var node = await KvNode.CreateAsync(
            new KvNodeOptions { NodeId = 1, DataDir = dir, RaftListen = raft, RaftAdvertise = raft, GrpcAdvertise = "127.0.0.1:1", HttpAdvertise = "127.0.0.1:2", OperationTimeout = TimeSpan.FromSeconds(3) },
            NullLoggerFactory.Instance);
        Assert.True(node.Auth.Enabled);
        await node.StartAsync();
        await Eventually.TrueAsync(() => node.Auth.TokenKey.Length == 32, TimeSpan.FromSeconds(30), "the leader proposed a token key");
        Assert.True(node.Auth.Enabled);
        Assert.Equal(41, node.Auth.Revision); // that AuthEnable is one change
        Assert.Equal(["alice", "cert-only", "root"], node.Auth.Users.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(Records(imported), Records(node.Auth)); // users and roles untouched
    }

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    private static AuthException? Apply(AuthTable t, CommandKind kind, AuthChange change)
    {
        var (next, _, error) = t.Change(kind, change);
        if (next is not null)
        {
            t.Publish(next);
        }

        return error;
    }

    /// <summary>Every user and role record, hex, sorted (the state's on-disk form, auth revision and key aside).</summary>
    private static string[] Records(AuthState s)
        => [.. s.Users.Values.SelectMany(AuthKeys.UserRecords).Concat(s.Roles.Values.SelectMany(AuthKeys.RoleRecords))
            .Select(r => Convert.ToHexString(r.Key) + "=" + Convert.ToHexString(r.Value)).Order(StringComparer.Ordinal)];

    private static async Task<AuthState> LoadAsync(string dataDir)
    {
        await using var store = await LsmStore.OpenAsync(new LsmOptions { Directory = Path.Combine(dataDir, "lsm"), PartitionBoundaries = State.TablePartitions.Boundaries, FileSystem = PhysicalFileSystem.Instance });
        return AuthKeys.Load(store);
    }
}
