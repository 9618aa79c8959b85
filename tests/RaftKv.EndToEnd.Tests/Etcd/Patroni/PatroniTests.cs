using Xunit.Abstractions;

namespace RaftKv.EndToEnd.Tests.Etcd.Patroni;

/// <summary>
/// Patroni, the PostgreSQL high-availability manager (one of the etcd users RaftKv means to serve unchanged), keeps its
/// leader lock, member keys and configuration in a real 3-node RaftKv through etcd's v3 API (its etcd3 module: the JSON
/// gateway, leases with keep-alives, compare-and-set on the leader key, watches): it bootstraps a PostgreSQL cluster,
/// adds a streaming replica, switches over on request, rides out the RaftKv leader's SIGKILL, and fails over when the
/// primary's machine dies (its leader key's lease expires). Before 2026-12-07 Patroni never got past "waiting on etcd":
/// it parses /version's etcdserver as dotted integers, and RaftKv reported "3.5.0-raftkv".
/// Auth is on, as in production: Patroni's user may read and write only its <c>/service/</c> prefix, and tokens live 5 s
/// (AUTH_TOKEN_TTL), so they expire again and again during the run. That needs what etcd does and RaftKv did not
/// before 2026-12-07: MemberList answered without a token (Patroni lists members before it authenticates, and later
/// with an expired token), and LeaseKeepAlive reading no token (Patroni 3.0 does not re-authenticate there: with
/// "invalid auth token" it lost its leader lock and demoted the primary).
/// The timeline counts PostgreSQL promotions: it must end at 3 (switchover, failover) — a spurious failover while
/// RaftKv changed leader, or a lost lock, would make it 4 or more.
/// </summary>
public sealed class PatroniTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(120);
    private static readonly (string Name, string Password) User = ("patroni", "patroni-pw");

    /// <summary>Root, and user patroni with READWRITE on <c>/service/</c> (Patroni's namespace), then auth on.</summary>
    private static async Task EnableAuthAsync(string endpoint)
    {
        foreach (var args in new[]
        {
            new[] { "user", "add", "root:root-pw" },
            ["role", "add", "patroni"],
            ["role", "grant-permission", "patroni", "--prefix=true", "readwrite", "/service/"],
            ["user", "add", $"{User.Name}:{User.Password}"],
            ["user", "grant-role", User.Name, "patroni"],
            ["auth", "enable"],
        })
        {
            (await Etcdctl.RunAsync(endpoint, args)).Ok();
        }
    }

    [Fact]
    public async Task PatroniBootstrapsSwitchesOverAndFailsOverOnRaftKv()
    {
        using var cluster = new LocalCluster(3, new Dictionary<string, string> { ["AUTH_TOKEN_TTL"] = "5" });
        cluster.StartAll();
        var raftLeader = await cluster.WaitForLeaderAsync();
        await cluster.WaitReadyAsync();
        await EnableAuthAsync(cluster.Nodes[0].Grpc);

        var folder = PatroniNode.CreateFolder();
        var hosts = cluster.Nodes.Select(n => n.Grpc).ToList();
        using var pg1 = new PatroniNode(folder, "raftkv-test", "pg1", hosts, User);
        using var pg2 = new PatroniNode(folder, "raftkv-test", "pg2", hosts, User);
        try
        {
            pg1.Start();
            await Eventually.TrueAsync(pg1.IsPrimaryAsync, Wait, "pg1 bootstraps the PostgreSQL cluster and takes the leader lock");
            pg2.Start();
            await Eventually.TrueAsync(pg2.IsRunningReplicaAsync, Wait, "pg2 joins as a streaming replica");

            output.WriteLine(await pg1.SwitchoverAsync("pg1", "pg2"));
            await Eventually.TrueAsync(async () => await pg2.IsPrimaryAsync() && await pg1.IsRunningReplicaAsync(), Wait, "pg2 leads after the switchover, pg1 follows it");

            raftLeader.Kill();
            var next = await cluster.WaitForLeaderAsync();
            output.WriteLine($"RaftKv node {raftLeader.NodeId} killed; node {next.NodeId} leads");
            await Eventually.TrueAsync(async () => await pg2.IsPrimaryAsync() && await pg1.IsRunningReplicaAsync(), Wait, "Patroni's roles hold through RaftKv's leader change");

            pg2.Kill();
            await Eventually.TrueAsync(pg1.IsPrimaryAsync, Wait, "pg1 takes over once the dead primary's lease expires");
            Assert.Equal(3, (await pg1.StatusAsync())?.Timeline);
        }
        catch
        {
            output.WriteLine("pg1:\n" + pg1.Log + "\npg2:\n" + pg2.Log);
            throw;
        }
        finally
        {
            pg1.Kill();
            pg2.Kill();
            Directory.Delete(folder, recursive: true);
        }
    }
}
