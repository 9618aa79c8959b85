namespace RaftKv.EndToEnd.Tests.Etcd;

/// <summary>
/// <c>etcdctl lock</c> and <c>etcdctl elect</c> (etcd 3.4's client-side concurrency: lease, txn, range sorted by
/// create revision, watch) against a 3-node RaftKv, the two contenders at different members: the second waits
/// until the holder's lease is revoked, then runs its command / is elected, and an observer (<c>elect -l</c>)
/// sees both leaders' values in order.
/// </summary>
[Collection(EtcdCollection.Name)]
public sealed class EtcdctlLockElectTests(EtcdClusterFixture fixture)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    private async Task<(string Follower, string Leader)> EndpointsAsync()
    {
        var leader = await fixture.Cluster.WaitForLeaderAsync();
        return (fixture.Cluster.Nodes.First(n => n.IsRunning && n != leader).Grpc, leader.Grpc);
    }

    /// <summary>The lease of a concurrency key (its name ends with the lease id in hex).</summary>
    private static string LeaseOf(string key) => key[(key.LastIndexOf('/') + 1)..];

    private static async Task WaitKeysAsync(string endpoint, string prefix, int count)
    {
        var deadline = DateTime.UtcNow + Wait;
        while ((await Etcdctl.RunAsync(endpoint, "get", prefix, "--prefix", "--keys-only")).Ok().Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length < count)
        {
            Assert.True(DateTime.UtcNow < deadline, $"fewer than {count} keys under {prefix}");
            await Task.Delay(Poll.Interval);
        }
    }

    [Fact]
    public async Task LockWaitsForTheHolderThenRunsItsCommand()
    {
        var (follower, leader) = await EndpointsAsync();
        using var holder = Etcdctl.Spawn(follower, "lock", "ctl-lock");
        var key = (await holder.ReadUntilAsync(l => l.Count >= 1, Wait))[0];
        Assert.StartsWith("ctl-lock/", key, StringComparison.Ordinal);

        var second = Etcdctl.RunAsync(leader, "lock", "ctl-lock", "echo", "second-holds");
        await WaitKeysAsync(leader, "ctl-lock/", 2);
        Assert.False(second.IsCompleted, "the second etcdctl lock ran while the first held the lock");

        (await Etcdctl.RunAsync(leader, "lease", "revoke", LeaseOf(key))).Ok();
        var result = (await second.WaitAsync(Wait)).Ok();
        Assert.Contains("second-holds", result.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ElectHandsOverOnTheLeadersLeaseRevokeAndObserveSeesBoth()
    {
        var (follower, leader) = await EndpointsAsync();
        using var observer = Etcdctl.Spawn(follower, "elect", "-l", "ctl-elect");
        using var first = Etcdctl.Spawn(follower, "elect", "ctl-elect", "p1");
        var firstKey = (await first.ReadUntilAsync(l => l.Count >= 2, Wait))[0];
        Assert.StartsWith("ctl-elect/", firstKey, StringComparison.Ordinal);
        await observer.ReadUntilAsync(l => l.Contains("p1"), Wait);

        using var second = Etcdctl.Spawn(leader, "elect", "ctl-elect", "p2");
        await WaitKeysAsync(leader, "ctl-elect/", 2);
        (await Etcdctl.RunAsync(leader, "lease", "revoke", LeaseOf(firstKey))).Ok();
        var elected = await second.ReadUntilAsync(l => l.Count >= 2, Wait);
        Assert.Equal("p2", elected[1]);
        var observed = await observer.ReadUntilAsync(l => l.Contains("p2"), Wait);
        Assert.Equal(["p1", "p2"], observed.Where(l => l is "p1" or "p2"));
    }
}
