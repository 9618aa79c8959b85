using System.Diagnostics;
using System.Text;
using RaftKv.Replication.Api;

namespace RaftKv.Replication.Tests;

/// <summary>Leases on real replicas: grant/attach/revoke, expiry by the leader, keep-alive across a leader
/// change, restart and snapshot install. Waits are conditions with deadlines; nothing asserts a duration.</summary>
[Collection("cluster")]
public sealed class LeaseClusterTests
{
    /// <summary>How often the test's client sends keep-alives (a real client's period, not a wait).</summary>
    private static readonly TimeSpan KeepAlivePeriod = TimeSpan.FromMilliseconds(200);

    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    private static byte[] B(string s) => Encoding.UTF8.GetBytes(s);

    private static string S(byte[] b) => Encoding.UTF8.GetString(b);

    private static Task<TxnResult> PutAsync(TestCluster c, string key, long lease = 0)
        => c.WriteAsync(KvTxn.Single(new KvOp(KvOpKind.Put, B(key), B("v-" + key), Lease: lease)));

    [Fact]
    public async Task RevokeDeletesEveryAttachedKeyInOneWriteOnEveryReplica()
    {
        await using var c = await TestCluster.StartAsync(3);
        var leader = await c.WaitForLeaderAsync();
        var grant = await c.OnLeaderAsync(n => n.LeaseGrantAsync(0, 600));
        Assert.True(grant.Id > 0);
        Assert.Equal(600, grant.TtlSeconds);
        foreach (var k in new[] { "a", "b", "c" })
        {
            await PutAsync(c, "l/" + k, grant.Id);
        }

        await PutAsync(c, "l/d");
        var ttl = await leader.LeaseTimeToLiveAsync(grant.Id, withKeys: true);
        Assert.Equal(["l/a", "l/b", "l/c"], ttl.Keys.Select(S));
        Assert.Equal(600, ttl.GrantedTtlSeconds);
        Assert.InRange(ttl.RemainingSeconds, 1, 600);

        // A put without the lease detaches the key; a put with another lease moves it.
        await PutAsync(c, "l/b");
        var other = await c.OnLeaderAsync(n => n.LeaseGrantAsync(0, 600));
        await PutAsync(c, "l/c", other.Id);
        Assert.Equal(["l/a"], (await leader.LeaseTimeToLiveAsync(grant.Id, true)).Keys.Select(S));
        Assert.Equal(["l/c"], (await leader.LeaseTimeToLiveAsync(other.Id, true)).Keys.Select(S));
        await PutAsync(c, "l/c", grant.Id);
        var last = await PutAsync(c, "l/e", grant.Id);

        using var cts = new CancellationTokenSource(Deadline);
        var watcher = c.Running.First(n => n != leader);
        var batches = new List<IReadOnlyList<MvccEvent>>();
        var watch = Task.Run(async () =>
        {
            await foreach (var batch in watcher.WatchRevisionsAsync(B("l/"), B("l0"), last.Revision + 1, prevKv: false, cts.Token))
            {
                batches.Add(batch);
                return;
            }
        });

        var revoke = await leader.LeaseRevokeAsync(grant.Id);
        Assert.True(revoke.Succeeded);
        Assert.Equal(last.Revision + 1, revoke.Revision);
        await watch.WaitAsync(cts.Token);
        var events = Assert.Single(batches); // one revision holds every delete
        Assert.All(events, e => Assert.Equal(MvccEventType.Delete, e.Type));
        Assert.All(events, e => Assert.Equal(revoke.Revision, e.Kv.ModRevision));
        Assert.Equal(["l/a", "l/c", "l/e"], events.Select(e => S(e.Kv.Key.ToArray())));

        await c.AssertReplicasIdenticalAsync();
        foreach (var n in c.Running)
        {
            Assert.Null(await n.GetAsync(B("l/a"), ReadConsistency.Linearizable));
            Assert.Null(await n.GetAsync(B("l/c"), ReadConsistency.Linearizable));
            Assert.NotNull(await n.GetAsync(B("l/b"), ReadConsistency.Linearizable));
            Assert.NotNull(await n.GetAsync(B("l/d"), ReadConsistency.Linearizable));
            Assert.Equal([other.Id], await n.LeaseLeasesAsync());
        }

        Assert.Empty((await leader.LeaseTimeToLiveAsync(other.Id, true)).Keys);
    }

    [Fact]
    public async Task LeaseErrorsAreTyped()
    {
        await using var c = await TestCluster.StartAsync(1);
        var leader = await c.WaitForLeaderAsync();
        var lease = await leader.LeaseGrantAsync(7, 1);
        Assert.Equal(7, lease.Id);
        Assert.True(lease.TtlSeconds >= 2, "a TTL below the minimum is raised to it");
        Assert.Equal(7, (await Assert.ThrowsAsync<LeaseExistsException>(() => leader.LeaseGrantAsync(7, 60))).LeaseId);
        await Assert.ThrowsAsync<LeaseTtlTooLargeException>(() => leader.LeaseGrantAsync(0, LeaseLimits.MaxTtlSeconds + 1));
        Assert.Equal(8, (await Assert.ThrowsAsync<LeaseNotFoundException>(() => PutAsync(c, "k", 8))).LeaseId);
        Assert.Null(await leader.GetAsync(B("k"), ReadConsistency.Linearizable));
        await Assert.ThrowsAsync<LeaseNotFoundException>(() => leader.LeaseRevokeAsync(8));
        await Assert.ThrowsAsync<LeaseNotFoundException>(() => leader.LeaseKeepAliveAsync(8));
        await Assert.ThrowsAsync<LeaseNotFoundException>(() => leader.LeaseTimeToLiveAsync(8, false));
        await Assert.ThrowsAsync<ArgumentException>(() => leader.WriteAsync(KvTxn.Single(new KvOp(KvOpKind.Put, B("k"), B("v"), TtlMs: 1000, Lease: 7))));
        await leader.LeaseRevokeAsync(7);
        Assert.Empty(await leader.LeaseLeasesAsync());
    }

    [Fact]
    public async Task UnkeptLeaseExpiresAndItsKeysAreDeletedEverywhere()
    {
        await using var c = await TestCluster.StartAsync(3);
        var leader = await c.WaitForLeaderAsync();
        var lease = await leader.LeaseGrantAsync(0, 2);
        await PutAsync(c, "e/1", lease.Id);
        await PutAsync(c, "e/2", lease.Id);
        await PutAsync(c, "e/keep");
        await Eventually.TrueAsync(
            async () =>
            {
                foreach (var n in c.Running)
                {
                    if (await n.GetAsync(B("e/1"), ReadConsistency.Serializable) is not null || (await n.LeaseLeasesAsync(ReadConsistency.Serializable)).Count != 0)
                    {
                        return false;
                    }
                }

                return true;
            },
            Deadline,
            "the expired lease is revoked and its keys deleted on every replica");
        Assert.NotNull(await leader.GetAsync(B("e/keep"), ReadConsistency.Linearizable));
        await c.AssertReplicasIdenticalAsync();
    }

    [Fact]
    public async Task KeepAlivesCarryALeaseAcrossALeaderKill()
    {
        await using var c = await TestCluster.StartAsync(3);
        var first = await c.WaitForLeaderAsync();
        var lease = await first.LeaseGrantAsync(0, 4);
        await PutAsync(c, "k/alive", lease.Id);

        using var stop = new CancellationTokenSource();
        var renewedBy = new Dictionary<long, int>();
        var keeper = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                foreach (var n in c.Running.ToList())
                {
                    try
                    {
                        await n.LeaseKeepAliveAsync(lease.Id);
                        lock (renewedBy)
                        {
                            renewedBy[n.NodeId] = renewedBy.GetValueOrDefault(n.NodeId) + 1;
                        }
                    }
                    catch (Exception e) when (e is NotLeaderException or UnavailableException or ObjectDisposedException or OperationCanceledException)
                    {
                    }
                }

                await Task.Delay(KeepAlivePeriod); // pacing, not a wait for a condition
            }
        });

        // The leader that renewed it (leadership may have moved since the grant on a loaded machine: a full suite run saw the first
        // leader never renew) is the one killed.
        KvNode? renewer = null;
        await Eventually.TrueAsync(
            () =>
            {
                lock (renewedBy)
                {
                    renewer = c.Running.FirstOrDefault(n => n.IsLeader && renewedBy.GetValueOrDefault(n.NodeId) >= 3);
                    return renewer is not null;
                }
            },
            Deadline,
            "a leader renews the lease");
        first = renewer!;
        await c.StopNodeAsync(first.NodeId);
        var next = await c.WaitForLeaderAsync();

        // Keep it alive through the new leader for well over two TTLs of wall time.
        var since = Stopwatch.StartNew();
        await Eventually.TrueAsync(
            () => { lock (renewedBy) { return renewedBy.GetValueOrDefault(next.NodeId) >= 5 && since.Elapsed > TimeSpan.FromSeconds(lease.TtlSeconds * 2.5); } },
            Deadline,
            "the new leader renews the lease for more than two TTLs");
        Assert.NotNull(await next.GetAsync(B("k/alive"), ReadConsistency.Linearizable));
        Assert.Contains(lease.Id, await next.LeaseLeasesAsync());

        // Without keep-alives the new leader expires it.
        await stop.CancelAsync();
        await keeper;
        await Eventually.TrueAsync(async () => await next.GetAsync(B("k/alive"), ReadConsistency.Linearizable) is null, Deadline, "the lease expires once no longer kept alive");
        Assert.DoesNotContain(lease.Id, await next.LeaseLeasesAsync());
    }

    [Fact]
    public async Task LeasesSurviveRestartAndSnapshotInstall()
    {
        await using var c = await TestCluster.StartAsync(3);
        var leader = await c.WaitForLeaderAsync();
        var lagging = c.Running.First(n => n != leader).NodeId;
        await c.StopNodeAsync(lagging);
        var lease = await c.OnLeaderAsync(n => n.LeaseGrantAsync(0, 3600));
        for (var i = 0; i < 200; i++)
        {
            await PutAsync(c, $"s/{i:D3}", i % 2 == 0 ? lease.Id : 0);
        }

        foreach (var n in c.Running)
        {
            await n.FlushAsync(); // a snapshot; the log up to it may be dropped
        }

        await c.StartNodeAsync(lagging);
        var follower = c.Nodes[lagging]!;
        await Eventually.TrueAsync(async () => (await follower.LeaseLeasesAsync(ReadConsistency.Serializable)).Contains(lease.Id), Deadline, "the lagging follower has the lease");
        Assert.True(follower.GetStatus().SnapshotsInstalled >= 1, "the follower caught up by installing a snapshot");

        // Every node restarts: the lease table and the attachment index come back from the store.
        foreach (var id in c.Nodes.Keys.ToList())
        {
            await c.StopNodeAsync(id);
        }

        foreach (var id in c.Nodes.Keys.ToList())
        {
            await c.StartNodeAsync(id);
        }

        leader = await c.WaitForLeaderAsync();
        await Eventually.TrueAsync(
            async () =>
            {
                try
                {
                    return (await c.Running.First(n => n.IsLeader).LeaseTimeToLiveAsync(lease.Id, true)).Keys.Count == 100;
                }
                catch (Exception e) when (e is NotLeaderException or UnavailableException or InvalidOperationException)
                {
                    return false;
                }
            },
            Deadline,
            "the restarted leader reports the lease with its 100 keys");

        // The revoke is applied by every replica from its own attachment index (the follower's came from the snapshot).
        await c.OnLeaderAsync(n => n.LeaseRevokeAsync(lease.Id));
        await c.AssertReplicasIdenticalAsync();
        foreach (var n in c.Running)
        {
            Assert.Equal(100, (await n.RangeAsync(B("s/"), B("s0"), 0, ReadConsistency.Linearizable)).Count);
        }
    }
}
