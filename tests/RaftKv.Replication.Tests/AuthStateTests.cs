using System.Text;
using RaftKv.Replication.Api;
using RaftKv.Replication.Auth;
using RaftKv.Replication.Commands;

namespace RaftKv.Replication.Tests;

/// <summary>The auth state machine alone: codec, on-disk records, etcd's rules at apply, permission coverage.</summary>
public sealed class AuthStateTests
{
    private static byte[] B(string s) => Encoding.UTF8.GetBytes(s);

    private static (AuthTable Table, AuthException? Error) Apply(AuthTable table, CommandKind kind, AuthChange change)
    {
        var (next, _, error) = table.Change(kind, change);
        if (next is not null)
        {
            table.Publish(next);
        }

        return (table, error);
    }

    [Fact]
    public void AuthCommandsRoundTrip()
    {
        var perm = new AuthPermission(AuthPermissionType.ReadWrite, B("a/"), B("a0"));
        var cmd = new KvCommand(CommandKind.RoleGrantPermission, 7, null, null, Auth: new AuthChange("reader", "r", [1, 2, 3], perm));
        var back = CommandCodec.Decode(CommandCodec.Encode(cmd));
        Assert.Equal(CommandKind.RoleGrantPermission, back.Kind);
        Assert.Equal("reader", back.Auth!.Name);
        Assert.Equal("r", back.Auth.Role);
        Assert.Equal([1, 2, 3], back.Auth.Secret);
        Assert.Equal(AuthPermissionType.ReadWrite, back.Auth.Permission!.Type);
        Assert.Equal(B("a/"), back.Auth.Permission.Key);
        Assert.Equal(B("a0"), back.Auth.Permission.RangeEnd);

        var plain = CommandCodec.Decode(CommandCodec.Encode(new KvCommand(CommandKind.UserDelete, 8, null, null, Auth: new AuthChange("bob"))));
        Assert.Equal("bob", plain.Auth!.Name);
        Assert.Null(plain.Auth.Role);
        Assert.Null(plain.Auth.Secret);
        Assert.Null(plain.Auth.Permission);

        // A simple token: the user, the token's digest and the auth revision its password was checked at.
        var digest = Enumerable.Range(0, 32).Select(i => (byte)i).ToArray();
        var token = CommandCodec.Decode(CommandCodec.Encode(new KvCommand(CommandKind.SimpleToken, 9, null, null, Revision: 300, Auth: new AuthChange("alice", Secret: digest))));
        Assert.Equal((CommandKind.SimpleToken, "alice", 300L), (token.Kind, token.Auth!.Name, token.Revision));
        Assert.Equal(digest, token.Auth.Secret);
        Assert.Throws<UnsupportedCommandVersionException>(() => CommandCodec.Decode([CommandCodec.Magic, CommandCodec.CurrentVersion, 47, 0, 0]));
    }

    [Fact]
    public void RecordsAreShortEnoughToStayLocal()
    {
        var user = new AuthUser("a-user-with-a-long-name", new byte[56], ["r1", "r2"], 12);
        var role = new AuthRole("role", [new AuthPermission(AuthPermissionType.Read, new byte[300], new byte[300])]);
        foreach (var (_, value) in AuthKeys.UserRecords(user).Concat(AuthKeys.RoleRecords(role)))
        {
            Assert.True(value.Length <= Storage.Tables.KeysFile.InlineValueMaxBytes);
        }

        Assert.Equal(2, AuthKeys.UserRecords(user).Count(r => r.Value.Length > 1 && r.Value.All(b => b == 0))); // the hash in two chunks
    }

    [Fact]
    public void EtcdRulesAreEnforcedAtApply()
    {
        var t = new AuthTable();
        Assert.Equal(AuthError.RootUserNotExist, Apply(t, CommandKind.AuthEnable, new AuthChange(Secret: new byte[32])).Error!.Error);
        Assert.Null(Apply(t, CommandKind.UserAdd, new AuthChange("root", Secret: [1])).Error);
        Assert.Equal(AuthError.UserAlreadyExists, Apply(t, CommandKind.UserAdd, new AuthChange("root", Secret: [1])).Error!.Error);
        Assert.Equal(AuthError.UserEmpty, Apply(t, CommandKind.UserAdd, new AuthChange("")).Error!.Error);
        Assert.Equal(AuthError.RootRoleNotExist, Apply(t, CommandKind.AuthEnable, new AuthChange(Secret: new byte[32])).Error!.Error);
        Assert.Equal(AuthError.RoleNotFound, Apply(t, CommandKind.UserGrantRole, new AuthChange("root", "nope")).Error!.Error);
        Assert.Null(Apply(t, CommandKind.UserGrantRole, new AuthChange("root", "root")).Error); // the root role needs no RoleAdd
        var before = t.Current.Revision;
        Assert.Null(Apply(t, CommandKind.AuthEnable, new AuthChange(Secret: Enumerable.Repeat((byte)7, 32).ToArray())).Error);
        Assert.True(t.Current.Enabled);
        Assert.Equal(before + 1, t.Current.Revision);
        Assert.Equal(AuthError.InvalidAuthManagement, Apply(t, CommandKind.UserDelete, new AuthChange("root")).Error!.Error);
        Assert.Equal(AuthError.InvalidAuthManagement, Apply(t, CommandKind.UserRevokeRole, new AuthChange("root", "root")).Error!.Error);
        Assert.Equal(before + 1, t.Current.Revision); // refusals do not count

        // The key is chosen once: a second enable keeps it.
        Assert.Null(Apply(t, CommandKind.AuthDisable, new AuthChange()).Error);
        Assert.Null(Apply(t, CommandKind.AuthEnable, new AuthChange(Secret: new byte[32])).Error);
        Assert.All(t.Current.TokenKey, b => Assert.Equal(7, b));

        Assert.Null(Apply(t, CommandKind.RoleAdd, new AuthChange("reader")).Error);
        Assert.Equal(AuthError.RoleAlreadyExists, Apply(t, CommandKind.RoleAdd, new AuthChange("reader")).Error!.Error);
        Assert.Equal(AuthError.PermissionNotGranted, Apply(t, CommandKind.RoleRevokePermission, new AuthChange("reader", Permission: new AuthPermission(0, B("x"), []))).Error!.Error);
        Assert.Null(Apply(t, CommandKind.UserAdd, new AuthChange("alice", Secret: [2])).Error);
        var aliceRevision = t.Current.User("alice")!.Revision;
        Assert.Null(Apply(t, CommandKind.UserGrantRole, new AuthChange("alice", "reader")).Error);
        Assert.True(t.Current.User("alice")!.Revision > aliceRevision, "a role grant bumps the user's revision (older tokens go stale)");
        Assert.Equal(AuthError.RoleNotGranted, Apply(t, CommandKind.UserRevokeRole, new AuthChange("alice", "writer")).Error!.Error);
        Assert.Null(Apply(t, CommandKind.RoleDelete, new AuthChange("reader")).Error);
        Assert.Empty(t.Current.User("alice")!.Roles); // deleting a role revokes it from its users
        Assert.Equal(AuthError.UserNotFound, Apply(t, CommandKind.UserChangePassword, new AuthChange("bob", Secret: [3])).Error!.Error);
    }

    [Theory]
    [InlineData("a/", "a0", "a/x", "", false, true)] // inside the prefix
    [InlineData("a/", "a0", "a/", "a0", false, true)] // the whole prefix
    [InlineData("a/", "a0", "b", "", false, false)] // outside
    [InlineData("a/", "a0", "a/x", "b", false, false)] // starts inside, ends outside
    [InlineData("a/", "a0", "a/x", "", true, false)] // read only
    [InlineData("a/", "a0", "a/", "\0", false, false)] // from a/ to the end
    [InlineData("k", "", "k", "", false, true)] // a single key
    [InlineData("k", "", "k", "l", false, false)] // a single key does not cover a range
    [InlineData("", "\0", "anything", "\0", false, true)] // every key
    public void PermissionsCoverTheWholeRequestedRange(string permKey, string permEnd, string key, string end, bool write, bool allowed)
    {
        var state = AuthTable.Make(true, 1, [], new Dictionary<string, AuthUser>
        {
            ["u"] = new("u", null, ["r"], 1),
        }, new Dictionary<string, AuthRole>
        {
            ["r"] = new("r", [new AuthPermission(AuthPermissionType.Read, B(permKey), B(permEnd))]),
        });
        Assert.Equal(allowed, state.IsPermitted(state.User("u")!, B(key), B(end), write));
    }

    [Fact]
    public void AdjacentPermissionsOfSeveralRolesAreMerged()
    {
        var state = AuthTable.Make(true, 1, [], new Dictionary<string, AuthUser> { ["u"] = new("u", null, ["r1", "r2"], 1), ["root"] = new("root", null, ["root"], 1) }, new Dictionary<string, AuthRole>
        {
            ["r1"] = new("r1", [new AuthPermission(AuthPermissionType.ReadWrite, B("a"), B("c"))]),
            ["r2"] = new("r2", [new AuthPermission(AuthPermissionType.Write, B("c"), B("e"))]),
        });
        Assert.True(state.IsPermitted(state.User("u")!, B("b"), B("d"), write: true));
        Assert.False(state.IsPermitted(state.User("u")!, B("b"), B("d"), write: false));
        Assert.True(state.IsPermitted(state.User("root")!, B("zzz"), B("\0"), write: true));
    }
}
