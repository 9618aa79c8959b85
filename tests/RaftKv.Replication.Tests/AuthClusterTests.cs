using System.Text;
using RaftKv.Replication.Api;
using RaftKv.Replication.Auth;
using RaftKv.Replication.Commands;

namespace RaftKv.Replication.Tests;

/// <summary>Auth state on real replicas: the same on every node, and back after a restart, a snapshot install
/// and a leader change. Waits are conditions with deadlines.</summary>
[Collection("cluster")]
public sealed class AuthClusterTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    private static string Describe(AuthState s)
        => $"enabled={s.Enabled} rev={s.Revision} key={Convert.ToHexString(s.TokenKey)} "
        + string.Join(";", s.Users.Values.OrderBy(u => u.Name, StringComparer.Ordinal).Select(u => $"{u.Name}:{Convert.ToHexString(u.PasswordHash ?? [])}:{string.Join(',', u.Roles)}:{u.Revision}"))
        + " | " + string.Join(";", s.Roles.Values.OrderBy(r => r.Name, StringComparer.Ordinal).Select(r => r.Name + "=" + string.Join(',', r.Permissions.Select(p => $"{p.Type}:{Convert.ToHexString(p.Key)}-{Convert.ToHexString(p.RangeEnd)}"))));

    private static async Task ChangeAsync(TestCluster c, CommandKind kind, AuthChange change)
        => await (await c.WaitForLeaderAsync()).ChangeAuthAsync(kind, change);

    private static async Task AssertSameEverywhereAsync(TestCluster c, string expected)
    {
        foreach (var n in c.Running)
        {
            await Eventually.TrueAsync(async () => Describe(await n.ReadAuthAsync(ReadConsistency.Serializable)) == expected, Deadline, $"node {n.NodeId} has the auth state");
        }
    }

    [Fact]
    public async Task AuthStateSurvivesSnapshotInstallRestartAndLeaderChange()
    {
        await using var c = await TestCluster.StartAsync(3);
        var leader = await c.WaitForLeaderAsync();
        var lagging = c.Running.First(n => n != leader).NodeId;
        await c.StopNodeAsync(lagging);

        await ChangeAsync(c, CommandKind.UserAdd, new AuthChange("root", Secret: Enumerable.Range(0, 56).Select(i => (byte)i).ToArray()));
        await ChangeAsync(c, CommandKind.UserGrantRole, new AuthChange("root", AuthUser.RootRole));
        await ChangeAsync(c, CommandKind.RoleAdd, new AuthChange("reader"));
        await ChangeAsync(c, CommandKind.RoleGrantPermission, new AuthChange("reader", Permission: new AuthPermission(AuthPermissionType.Read, Encoding.UTF8.GetBytes("a/"), Encoding.UTF8.GetBytes("a0"))));
        await ChangeAsync(c, CommandKind.UserAdd, new AuthChange("alice", Secret: [9, 9, 9]));
        await ChangeAsync(c, CommandKind.UserGrantRole, new AuthChange("alice", "reader"));
        await ChangeAsync(c, CommandKind.UserAdd, new AuthChange("cert-only"));
        await ChangeAsync(c, CommandKind.AuthEnable, new AuthChange(Secret: Enumerable.Repeat((byte)5, 32).ToArray()));
        var error = await Assert.ThrowsAsync<AuthException>(() => ChangeAsync(c, CommandKind.UserAdd, new AuthChange("alice", Secret: [1])));
        Assert.Equal(AuthError.UserAlreadyExists, error.Error);

        leader = await c.WaitForLeaderAsync();
        var expected = Describe(leader.Auth);
        Assert.Contains("enabled=True", expected, StringComparison.Ordinal);
        Assert.Contains("cert-only::", expected, StringComparison.Ordinal); // no password

        for (var i = 0; i < 50; i++)
        {
            await c.PutAsync($"k/{i}", "v");
        }

        foreach (var n in c.Running)
        {
            await n.FlushAsync(); // a snapshot: the lagging node catches up by installing it
        }

        await c.StartNodeAsync(lagging);
        await AssertSameEverywhereAsync(c, expected);
        Assert.True(c.Nodes[lagging]!.GetStatus().SnapshotsInstalled >= 1, "the lagging follower installed a snapshot");

        // Every node restarts: the state comes back from the store.
        foreach (var id in c.Nodes.Keys.ToList())
        {
            await c.StopNodeAsync(id);
        }

        foreach (var id in c.Nodes.Keys.ToList())
        {
            await c.StartNodeAsync(id);
        }

        await c.WaitForLeaderAsync();
        await AssertSameEverywhereAsync(c, expected);

        // Leader change: the new leader has the state and goes on from it.
        leader = await c.WaitForLeaderAsync();
        await c.StopNodeAsync(leader.NodeId);
        await Eventually.TrueAsync(async () =>
        {
            try
            {
                await ChangeAsync(c, CommandKind.UserRevokeRole, new AuthChange("alice", "reader"));
                return true;
            }
            catch (Exception e) when (e is NotLeaderException or UnavailableException)
            {
                return false;
            }
            catch (AuthException e) when (e.Error == AuthError.RoleNotGranted)
            {
                return true; // an earlier attempt whose outcome was unknown did commit
            }
        }, Deadline, "a new leader accepts an auth change");
        var after = (await c.WaitForLeaderAsync()).Auth;
        Assert.Empty(after.User("alice")!.Roles);
        Assert.True(after.Enabled);
        await c.StartNodeAsync(leader.NodeId);
        await AssertSameEverywhereAsync(c, Describe(after));
    }
}
