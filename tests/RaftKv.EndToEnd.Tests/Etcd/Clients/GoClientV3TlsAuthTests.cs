namespace RaftKv.EndToEnd.Tests.Etcd.Clients;

/// <summary>etcd's Go client (<see cref="GoClientV3"/>) against a 3-node RaftKv with TLS and auth on, and auth tokens
/// that live 3 s: users and roles through clientv3's Auth API, a user kept to its role's keys with etcd's typed
/// refusals, a client that works on across its token's expiry (clientv3 fetches a new token on "invalid auth token"),
/// and, as root, the checks whose server side auth touches (kv, watch, lease, locks, elections, STM, leasing,
/// maintenance with a snapshot).</summary>
public sealed class GoClientV3TlsAuthTests
{
    [Fact]
    public async Task GoClientWorksOverTlsWithAuthOn()
    {
        using var kit = new TlsTestKit();
        using var c = await GoClientV3.StartTlsAuthClusterAsync(kit);
        var leader = await c.WaitForLeaderAsync();

        var follower = c.Nodes.First(n => n.IsRunning && n != leader);
        string[] asRoot = ["-cacert", kit.CaFile, "-user", "root", "-password", "root-pw", "-seconds", "8"];
        await GoClientV3.PassesAsync("auth", follower.Grpc, c, asRoot);
        foreach (var check in new[] { "kv", "watch", "lease", "mutex", "election", "stm", "leasing", "maintenance" })
        {
            await GoClientV3.PassesAsync(check, follower.Grpc, c, asRoot);
        }
    }
}
