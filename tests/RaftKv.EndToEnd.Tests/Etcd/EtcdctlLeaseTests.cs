using System.Text.RegularExpressions;

namespace RaftKv.EndToEnd.Tests.Etcd;

/// <summary>etcdctl's lease commands against a real 3-node RaftKv: grant, put --lease, timetolive --keys,
/// keep-alive --once (also through a follower: the keep-alive stream is forwarded to the leader), list,
/// revoke, the errors etcd answers, and the expiry of a lease nobody keeps alive.</summary>
[Collection(EtcdCollection.Name)]
public sealed partial class EtcdctlLeaseTests(EtcdClusterFixture fixture)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    private async Task<string> FollowerAsync()
    {
        var leader = await fixture.Cluster.WaitForLeaderAsync();
        return fixture.Cluster.Nodes.First(n => n.IsRunning && n != leader).Grpc;
    }

    private async Task<(string Id, long Ttl)> GrantAsync(string endpoints, int ttl)
    {
        var m = GrantedRegex().Match((await Etcdctl.RunAsync(endpoints, "lease", "grant", ttl.ToString(System.Globalization.CultureInfo.InvariantCulture))).Ok().Out);
        Assert.True(m.Success, "etcdctl printed a granted lease");
        return (m.Groups[1].Value, long.Parse(m.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task GrantAttachKeepAliveTimeToLiveListRevoke()
    {
        var ep = fixture.Endpoints;
        var follower = await FollowerAsync();
        var (id, ttl) = await GrantAsync(follower, 600); // a grant through a follower is forwarded
        Assert.Equal(600, ttl);
        (await Etcdctl.RunAsync(follower, "put", "ls/a", "1", "--lease=" + id)).Ok();
        (await Etcdctl.RunAsync(ep, "put", "ls/b", "2", "--lease=" + id)).Ok();
        (await Etcdctl.RunAsync(ep, "put", "ls/c", "3")).Ok();

        var ttlOut = (await Etcdctl.RunAsync(follower, "lease", "timetolive", id, "--keys")).Ok().Out;
        Assert.Matches($"^lease {id} granted with TTL\\(600s\\), remaining\\((\\d+)s\\), attached keys\\(\\[ls/a ls/b\\]\\)", ttlOut);
        // etcd truncates the remaining seconds (int64(Remaining().Seconds())): time has passed since the grant, so
        // it prints remaining(599s) here, never the granted 600.
        var remaining = long.Parse(System.Text.RegularExpressions.Regex.Match(ttlOut, "remaining\\((\\d+)s\\)").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(remaining, 1, 599);

        // keep-alive --once through every member (followers proxy the stream to the leader).
        foreach (var node in fixture.Cluster.Nodes.Where(n => n.IsRunning))
        {
            Assert.Contains($"lease {id} keepalived with TTL(600)", (await Etcdctl.RunAsync(node.Grpc, "lease", "keep-alive", "--once", id)).Ok().Out, StringComparison.Ordinal);
        }

        Assert.Contains(id, (await Etcdctl.RunAsync(follower, "lease", "list")).Ok().Out, StringComparison.Ordinal);

        var key = (await Etcdctl.RunAsync(ep, "get", "ls/a", "-w", "json")).Ok().Json;
        Assert.Equal(Convert.ToInt64(id, 16), EtcdJson.Kvs(key)[0].GetProperty("lease").GetInt64());

        Assert.Contains($"lease {id} revoked", (await Etcdctl.RunAsync(follower, "lease", "revoke", id)).Ok().Out, StringComparison.Ordinal);
        Assert.Equal("ls/c\n3\n", (await Etcdctl.RunAsync(ep, "get", "ls/", "--prefix")).Ok().Out);
        Assert.DoesNotContain(id, (await Etcdctl.RunAsync(ep, "lease", "list")).Ok().Out, StringComparison.Ordinal);
        Assert.Contains($"lease {id} already expired", (await Etcdctl.RunAsync(ep, "lease", "timetolive", id)).Ok().Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnknownLeasesAndBadTtlsAnswerEtcdsErrors()
    {
        var ep = fixture.Endpoints;
        var revoke = await Etcdctl.RunAsync(ep, "lease", "revoke", "1234abcd");
        Assert.NotEqual(0, revoke.Code);
        Assert.Contains("etcdserver: requested lease not found", revoke.Err, StringComparison.Ordinal);

        var put = await Etcdctl.RunAsync(ep, "put", "ls/x", "1", "--lease=1234abcd");
        Assert.NotEqual(0, put.Code);
        Assert.Contains("etcdserver: requested lease not found", put.Err, StringComparison.Ordinal);

        var keep = await Etcdctl.RunAsync(ep, "lease", "keep-alive", "--once", "1234abcd");
        Assert.NotEqual(0, keep.Code);
        Assert.Contains("etcdserver: requested lease not found", keep.Err, StringComparison.Ordinal); // clientv3: a TTL-0 answer

        var big = await Etcdctl.RunAsync(ep, "lease", "grant", "9000000001");
        Assert.NotEqual(0, big.Code);
        Assert.Contains("etcdserver: too large lease TTL", big.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ALeaseNobodyKeepsAliveExpiresWithItsKeys()
    {
        var ep = fixture.Endpoints;
        var (id, ttl) = await GrantAsync(ep, 1);
        Assert.True(ttl >= 2, "etcd raises a TTL below the minimum");
        (await Etcdctl.RunAsync(ep, "put", "lx/k", "v", "--lease=" + id)).Ok();
        await Eventually.TrueAsync(
            async () => (await Etcdctl.RunAsync(ep, "get", "lx/k")).Ok().Out.Length == 0,
            Deadline,
            "the un-kept lease expired and its key is gone");
        Assert.Contains($"lease {id} already expired", (await Etcdctl.RunAsync(ep, "lease", "timetolive", id)).Ok().Out, StringComparison.Ordinal);
    }

    [GeneratedRegex(@"lease ([0-9a-f]+) granted with TTL\((\d+)s\)")]
    private static partial Regex GrantedRegex();
}
