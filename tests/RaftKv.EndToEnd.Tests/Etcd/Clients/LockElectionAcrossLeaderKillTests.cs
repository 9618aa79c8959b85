using dotnet_etcd;
using Etcdserverpb;
using Google.Protobuf;
using Grpc.Core;
using V3Electionpb;
using V3Lockpb;
using Xunit.Abstractions;

namespace RaftKv.EndToEnd.Tests.Etcd.Clients;

/// <summary>
/// etcd runs Lock and Campaign on the member the client talks to: the wait is a watch there, so it survives a leader
/// change, and the waiter gets the lock (or leadership) once it is released — issues #14 and #17. Here a 3-node
/// cluster, a holder A talking to one follower, a waiter B (Lock) and a candidate C (Campaign) talking to the other
/// follower; the leader is killed (SIGKILL) while B and C wait; after the election A releases both, and B and C must
/// get them, without an error, with their own keys. Before the fix the follower forwarded the whole call to the leader
/// and ended it with "etcdserver: leader changed". The holder's leases have a 600 s TTL (a new leader renews every
/// lease to its full TTL), so they outlive the election without keep-alives.
/// </summary>
[Collection("processes")]
public sealed class LockElectionAcrossLeaderKillTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    private static EtcdClient ClientOf(ServerProcess node) => new("http://" + node.Grpc, configureChannelOptions: o => o.Credentials = ChannelCredentials.Insecure);

    private static ByteString Utf8(string s) => ByteString.CopyFromUtf8(s);

    private static string Hex(long lease) => lease.ToString("x", System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public async Task AWaiterAtAFollowerGetsTheLockAndLeadershipAfterTheLeaderIsKilled()
    {
        using var c = new LocalCluster(3);
        c.StartAll();
        var leader = await c.WaitForLeaderAsync();
        await c.WaitReadyAsync();
        var followers = c.Nodes.Where(n => n != leader).ToList();
        var (holderNode, waiterNode) = (followers[0], followers[1]);
        using var holder = ClientOf(holderNode);
        using var waiter = ClientOf(waiterNode);

        long la = await GrantAsync(holder), le = await GrantAsync(holder), lb = await GrantAsync(waiter), lc = await GrantAsync(waiter);
        var held = await holder.LockAsync(new LockRequest { Name = Utf8("lk"), Lease = la });
        var elected = await holder.CampaignAsync(new CampaignRequest { Name = Utf8("el"), Lease = le, Value = Utf8("a") });

        var locking = waiter.LockAsync(new LockRequest { Name = Utf8("lk"), Lease = lb });
        var campaigning = waiter.CampaignAsync(new CampaignRequest { Name = Utf8("el"), Lease = lc, Value = Utf8("c") });
        await WaitKeyAsync(holder, $"lk/{Hex(lb)}");
        await WaitKeyAsync(holder, $"el/{Hex(lc)}");

        leader.Kill();
        var next = await c.WaitForLeaderAsync();
        output.WriteLine($"node {leader.NodeId} killed; node {next.NodeId} leads; holder at node {holderNode.NodeId}, waiter at node {waiterNode.NodeId}");
        Assert.False(locking.IsCompleted, "the lock waiter returned while the lock was held: " + locking.Exception?.GetBaseException().Message);
        Assert.False(campaigning.IsCompleted, "the candidate returned while the leader held: " + campaigning.Exception?.GetBaseException().Message);

        // Released through the holder's member once the new leader takes writes (retried over the election's end).
        await RetryAsync(() => holder.UnlockAsync(new UnlockRequest { Key = held.Key }));
        await RetryAsync(() => holder.ResignAsync(new ResignRequest { Leader = elected.Leader }));

        var got = await locking.WaitAsync(Wait);
        Assert.Equal($"lk/{Hex(lb)}", got.Key.ToStringUtf8());
        var owner = await holder.GetAsync(new RangeRequest
        {
            Key = Utf8("lk/"),
            RangeEnd = Utf8("lk0"),
            SortTarget = RangeRequest.Types.SortTarget.Create,
            SortOrder = RangeRequest.Types.SortOrder.Ascend,
        });
        Assert.Equal([$"lk/{Hex(lb)}"], owner.Kvs.Select(kv => kv.Key.ToStringUtf8()));

        var won = await campaigning.WaitAsync(Wait);
        Assert.Equal($"el/{Hex(lc)}", won.Leader.Key.ToStringUtf8());
        var now = await holder.LeaderAsync(new V3Electionpb.LeaderRequest { Name = Utf8("el") });
        Assert.Equal(($"el/{Hex(lc)}", "c"), (now.Kv.Key.ToStringUtf8(), now.Kv.Value.ToStringUtf8()));
    }

    private static async Task<long> GrantAsync(EtcdClient client) => (await client.LeaseGrantAsync(new LeaseGrantRequest { TTL = 600 })).ID;

    /// <summary>Waits until <paramref name="key"/> exists (the contender's create txn ran: it now waits).</summary>
    private static async Task WaitKeyAsync(EtcdClient client, string key)
    {
        var deadline = DateTime.UtcNow + Wait;
        while ((await client.GetAsync(key)).Count == 0)
        {
            Assert.True(DateTime.UtcNow < deadline, key + " never created");
            await Task.Delay(Poll.Interval);
        }
    }

    /// <summary>An idempotent call, tried again on UNAVAILABLE (the cluster is still electing) until it answers.</summary>
    private static async Task RetryAsync<T>(Func<Task<T>> call)
    {
        var deadline = DateTime.UtcNow + Wait;
        while (true)
        {
            try
            {
                await call();
                return;
            }
            catch (RpcException e) when (e.StatusCode is StatusCode.Unavailable or StatusCode.Unknown && DateTime.UtcNow < deadline)
            {
                await Task.Delay(Poll.Interval);
            }
        }
    }
}
