using System.Collections.Concurrent;
using dotnet_etcd;
using Etcdserverpb;
using Google.Protobuf;
using Grpc.Core;
using V3Electionpb;
using V3Lockpb;

namespace RaftKv.EndToEnd.Tests.Etcd.Clients;

/// <summary>etcd's Lock and Election services through the third-party .NET client dotnet-etcd against a real
/// 3-node RaftKv, each contender or candidate talking to a different member (one a follower: a Lock or Campaign runs
/// and waits there and sends its writes to the leader; Unlock, Proclaim and Resign are forwarded): mutual exclusion and hand-over on Unlock and on the
/// holder's lease revoke; campaign, proclaim, observe and resign with two candidates; bad input gets etcd's status.</summary>
[Collection(EtcdCollection.Name)]
public sealed class DotnetEtcdLockElectionTests(EtcdClusterFixture fixture)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    private static EtcdClient ClientOf(ServerProcess node) => new("http://" + node.Grpc, configureChannelOptions: o => o.Credentials = ChannelCredentials.Insecure);

    /// <summary>A client at a follower and one at the leader.</summary>
    private async Task<(EtcdClient Follower, EtcdClient Leader)> ClientsAsync()
    {
        var leader = await fixture.Cluster.WaitForLeaderAsync();
        var follower = fixture.Cluster.Nodes.First(n => n.IsRunning && n != leader);
        return (ClientOf(follower), ClientOf(leader));
    }

    private static async Task<long> GrantAsync(EtcdClient c) => (await c.LeaseGrantAsync(new LeaseGrantRequest { TTL = 600 })).ID;

    private static ByteString Utf8(string s) => ByteString.CopyFromUtf8(s);

    private static string Hex(long lease) => lease.ToString("x", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Waits until <paramref name="key"/> exists (a contender's txn ran: it now waits, or holds).</summary>
    private static async Task WaitKeyAsync(EtcdClient c, string key)
    {
        var deadline = DateTime.UtcNow + Wait;
        while ((await c.GetAsync(key)).Count == 0)
        {
            Assert.True(DateTime.UtcNow < deadline, key + " never created");
            await Task.Delay(Poll.Interval);
        }
    }

    /// <summary>etcd 3.5's Mutex.Lock: a waiter whose own key went away while it waited (its lease revoked) does not get
    /// the lock when the holder releases it: "session expired" (UNKNOWN, etcd's Go error), not a second holder.</summary>
    [Fact]
    public async Task AWaiterWhoseLeaseWasRevokedWhileWaitingGetsSessionExpiredNotTheLock()
    {
        var (follower, leader) = await ClientsAsync();
        using var _f = follower;
        using var _l = leader;
        const string name = "dl-expired";
        long holding = await GrantAsync(leader), waiting = await GrantAsync(follower);
        var held = await leader.LockAsync(new LockRequest { Name = Utf8(name), Lease = holding });
        var wait = follower.LockAsync(new LockRequest { Name = Utf8(name), Lease = waiting });
        await WaitKeyAsync(leader, $"{name}/{Hex(waiting)}");
        await leader.LeaseRevokeAsync(new LeaseRevokeRequest { ID = waiting });
        Assert.False(wait.IsCompleted, "the waiter returned while the lock was held");
        await leader.UnlockAsync(new UnlockRequest { Key = held.Key });
        var e = await Assert.ThrowsAsync<RpcException>(() => wait);
        Assert.Equal((StatusCode.Unknown, "session expired"), (e.StatusCode, e.Status.Detail));
    }

    /// <summary>etcd's lock server deletes a contender's key when its wait ends without the lock (the client cancelled
    /// or its deadline passed), so an abandoned waiter does not hold the queue for the next ones.</summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task ACancelledWaitDeletesItsKey(bool waiterAtFollower)
    {
        var (follower, leader) = await ClientsAsync();
        using var _f = follower;
        using var _l = leader;
        var (holder, waiter) = waiterAtFollower ? (leader, follower) : (follower, leader);
        var name = "dl-cancel-" + waiterAtFollower;
        long l1 = await GrantAsync(holder), l2 = await GrantAsync(waiter), l3 = await GrantAsync(holder);
        var held = await holder.LockAsync(new LockRequest { Name = Utf8(name), Lease = l1 });

        using var cancel = new CancellationTokenSource();
        var waiting = waiter.LockAsync(new LockRequest { Name = Utf8(name), Lease = l2 }, cancellationToken: cancel.Token);
        await WaitKeyAsync(holder, $"{name}/{Hex(l2)}");
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<Exception>(() => waiting);

        var deadline = DateTime.UtcNow + Wait;
        while ((await holder.GetAsync($"{name}/{Hex(l2)}")).Count != 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "the cancelled contender's key was never deleted");
            await Task.Delay(Poll.Interval);
        }

        // The queue moves on without it: after Unlock the next contender gets the lock at once.
        await holder.UnlockAsync(new UnlockRequest { Key = held.Key });
        var next = await holder.LockAsync(new LockRequest { Name = Utf8(name), Lease = l3 }).WaitAsync(Wait);
        Assert.Equal($"{name}/{Hex(l3)}", next.Key.ToStringUtf8());
        await holder.UnlockAsync(new UnlockRequest { Key = next.Key });
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task SecondContenderWaitsForUnlockAndForTheHoldersLeaseRevoke(bool firstAtFollower)
    {
        var (follower, leader) = await ClientsAsync();
        using var _f = follower;
        using var _l = leader;
        var (first, second) = firstAtFollower ? (follower, leader) : (leader, follower);
        var name = "dl-lock-" + firstAtFollower;
        long l1 = await GrantAsync(first), l2 = await GrantAsync(second), l3 = await GrantAsync(first);

        var held = await first.LockAsync(new LockRequest { Name = Utf8(name), Lease = l1 });
        Assert.Equal($"{name}/{Hex(l1)}", held.Key.ToStringUtf8());
        Assert.True(held.Header.Revision > 0);

        var waiting = second.LockAsync(new LockRequest { Name = Utf8(name), Lease = l2 });
        await WaitKeyAsync(first, $"{name}/{Hex(l2)}");
        Assert.False(waiting.IsCompleted, "the second contender got the lock while the first held it");

        var unlocked = await first.UnlockAsync(new UnlockRequest { Key = held.Key });
        var second1 = await waiting.WaitAsync(Wait);
        Assert.Equal($"{name}/{Hex(l2)}", second1.Key.ToStringUtf8());
        Assert.True(second1.Header.Revision >= unlocked.Header.Revision);

        // The holder's lease is revoked: its key goes, and the next contender holds the lock.
        var third = first.LockAsync(new LockRequest { Name = Utf8(name), Lease = l3 });
        await WaitKeyAsync(first, $"{name}/{Hex(l3)}");
        Assert.False(third.IsCompleted, "the third contender got the lock while the second held it");
        await second.LeaseRevokeAsync(new LeaseRevokeRequest { ID = l2 });
        Assert.Equal($"{name}/{Hex(l3)}", (await third.WaitAsync(Wait)).Key.ToStringUtf8());
        await first.UnlockAsync(new UnlockRequest { Key = Utf8($"{name}/{Hex(l3)}") });
        Assert.Equal(0, (await leader.GetRangeAsync(name + "/")).Count);
    }

    [Fact]
    public async Task CampaignProclaimObserveResignWithTwoCandidates()
    {
        var (follower, leader) = await ClientsAsync();
        using var _f = follower;
        using var _l = leader;
        const string name = "dl-election";
        long la = await GrantAsync(follower), lb = await GrantAsync(leader);

        // An observer at the follower sees every value of every leader, in order.
        using var cts = new CancellationTokenSource(Wait * 2);
        var seen = new ConcurrentQueue<string>();
        var observer = Task.Run(async () =>
        {
            await foreach (var r in follower.ObserveAsync(new V3Electionpb.LeaderRequest { Name = Utf8(name) }, cancellationToken: cts.Token))
            {
                seen.Enqueue(r.Kv.Value.ToStringUtf8());
            }
        });

        var a = await follower.CampaignAsync(new CampaignRequest { Name = Utf8(name), Lease = la, Value = Utf8("a1") });
        Assert.Equal($"{name}/{Hex(la)}", a.Leader.Key.ToStringUtf8());
        Assert.Equal(a.Header.Revision, a.Leader.Rev);
        Assert.Equal("a1", (await leader.LeaderAsync(new V3Electionpb.LeaderRequest { Name = Utf8(name) })).Kv.Value.ToStringUtf8());

        var b = leader.CampaignAsync(new CampaignRequest { Name = Utf8(name), Lease = lb, Value = Utf8("b1") });
        await WaitKeyAsync(leader, $"{name}/{Hex(lb)}");
        Assert.False(b.IsCompleted, "the second candidate was elected while the first led");

        await follower.ProclaimAsync(new ProclaimRequest { Leader = a.Leader, Value = Utf8("a2") });
        Assert.Equal("a2", (await follower.LeaderAsync(new V3Electionpb.LeaderRequest { Name = Utf8(name) })).Kv.Value.ToStringUtf8());

        await follower.ResignAsync(new ResignRequest { Leader = a.Leader });
        var elected = await b.WaitAsync(Wait);
        Assert.Equal($"{name}/{Hex(lb)}", elected.Leader.Key.ToStringUtf8());
        Assert.Equal("b1", (await follower.LeaderAsync(new V3Electionpb.LeaderRequest { Name = Utf8(name) })).Kv.Value.ToStringUtf8());

        // The former leader can no longer proclaim: etcd's plain error (UNKNOWN).
        var stale = await Assert.ThrowsAsync<RpcException>(() => follower.ProclaimAsync(new ProclaimRequest { Leader = a.Leader, Value = Utf8("x") }));
        Assert.Equal((StatusCode.Unknown, "election: not leader"), (stale.StatusCode, stale.Status.Detail));
        await leader.ProclaimAsync(new ProclaimRequest { Leader = elected.Leader, Value = Utf8("b2") });

        var deadline = DateTime.UtcNow + Wait;
        while (seen.Count < 4)
        {
            Assert.True(DateTime.UtcNow < deadline && !observer.IsFaulted, $"observed {string.Join(',', seen)}; {observer.Exception}");
            await Task.Delay(Poll.Interval);
        }

        Assert.Equal(["a1", "a2", "b1", "b2"], seen.ToArray());
        await leader.ResignAsync(new ResignRequest { Leader = elected.Leader });
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<Exception>(() => observer); // cancelled by the caller
    }

    [Fact]
    public async Task BadInputGetsEtcdsStatusAtFollowerAndLeader()
    {
        var (follower, leader) = await ClientsAsync();
        using var _f = follower;
        using var _l = leader;
        foreach (var c in new[] { follower, leader })
        {
            var unknownLease = await Assert.ThrowsAsync<RpcException>(() => c.LockAsync(new LockRequest { Name = Utf8("dl-bad"), Lease = 0x5eed }));
            Assert.Equal((StatusCode.Unknown, "etcdserver: requested lease not found"), (unknownLease.StatusCode, unknownLease.Status.Detail));
            var noLeader = await Assert.ThrowsAsync<RpcException>(() => c.ProclaimAsync(new ProclaimRequest { Value = Utf8("v") }));
            Assert.Equal((StatusCode.Unknown, "\"leader\" field must be provided"), (noLeader.StatusCode, noLeader.Status.Detail));
            var noResign = await Assert.ThrowsAsync<RpcException>(() => c.ResignAsync(new ResignRequest()));
            Assert.Equal((StatusCode.Unknown, "\"leader\" field must be provided"), (noResign.StatusCode, noResign.Status.Detail));
            var none = await Assert.ThrowsAsync<RpcException>(() => c.LeaderAsync(new V3Electionpb.LeaderRequest { Name = Utf8("dl-nobody") }));
            Assert.Equal((StatusCode.Unknown, "election: no leader"), (none.StatusCode, none.Status.Detail));
            var emptyKey = await Assert.ThrowsAsync<RpcException>(() => c.UnlockAsync(new UnlockRequest()));
            Assert.Equal((StatusCode.Unknown, "etcdserver: key is not provided"), (emptyKey.StatusCode, emptyKey.Status.Detail));

            // An empty name is no error in etcd: the key is "/" + the lease in hex. Such a lock waits for every older key
            // under "/" (of any test sharing the cluster: they keep none there), so the call has a deadline rather than
            // hanging the run if one is left.
            var lease = await GrantAsync(c);
            var held = await c.LockAsync(new LockRequest { Lease = lease }, deadline: DateTime.UtcNow.AddSeconds(60));
            Assert.Equal("/" + Hex(lease), held.Key.ToStringUtf8());
            await c.UnlockAsync(new UnlockRequest { Key = held.Key });
        }
    }
}
