using RaftKv.EndToEnd.Tests.Etcd;

namespace RaftKv.EndToEnd.Tests.Auth;

public sealed partial class AuthProcessTests
{
    /// <summary>As etcd 3.4 (authApplierV3.UserGet / RoleGet): a user without the root role may get its own user and
    /// the roles it holds (what <c>etcdctl user get NAME --detail</c> does), not another user nor a role it does not
    /// hold, nor list users or roles.</summary>
    [Fact]
    public async Task AUserMayReadItselfAndTheRolesItHolds()
    {
        const string DanPassword = "dan-Pw-8a21";
        var (c, ep) = await StartWithUserAsync("dan", DanPassword, "d-writer", "d/", "other");
        using var cluster = c;
        string[] dan = ["--user", "dan:" + DanPassword];

        var self = (await Etcdctl.RunAsync(ep, [.. dan, "user", "get", "dan", "--detail"])).Ok();
        Assert.Contains("User: dan", self.Out, StringComparison.Ordinal);
        Assert.Contains("Role d-writer", self.Out, StringComparison.Ordinal);
        Assert.Contains("[d/, d0) (prefix d/)", self.Out, StringComparison.Ordinal);
        Assert.Contains("Role d-writer", (await Etcdctl.RunAsync(ep, [.. dan, "role", "get", "d-writer"])).Ok().Out, StringComparison.Ordinal);

        foreach (var args in new[] { new[] { "user", "get", "root" }, ["role", "get", "other"], ["user", "list"], ["role", "list"] })
        {
            var refused = await Etcdctl.RunAsync(ep, [.. dan, .. args]);
            Assert.True(refused.Code != 0, $"dan may not {string.Join(' ', args)}: {refused}");
            Assert.Contains("etcdserver: permission denied", refused.Err, StringComparison.Ordinal);
        }
    }
}
