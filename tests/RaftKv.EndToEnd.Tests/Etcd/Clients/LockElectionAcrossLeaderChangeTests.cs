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
/// change, and the waiter gets the lock (or leadership) once it is released — issues #14 and #17. One 3-node cluster,
/// two rounds, each with a holder A and a waiter B talking to two different members, neither of them the leader:
/// leadership is moved away (move-leader: the old leader lives on, as a frozen or deposed one would) while B's Lock
/// waits, then the new leader is killed (SIGKILL) while a Lock and a Campaign wait. After each change A releases and
/// B must get the lock (and leadership), without an error, with its own key. Before the fix a follower forwarded the
/// whole call to the leader and ended it with "etcdserver: leader changed" (or a broken connection). A's leases have a
/// 600 s TTL (a new leader renews every lease to its full TTL), so they outlive the elections without keep-alives.
/// </summary>
public sealed class LockElectionAcrossLeaderChangeTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    private static EtcdClient ClientOf(ServerProcess node) => new("http://" + node.Grpc, configureChannelOptions: o => o.Credentials = ChannelCredentials.Insecure);

    private static ByteString Utf8(string s) => ByteString.CopyFromUtf8(s);

    private static string Hex(long lease) => lease.ToString("x", System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public async Task AWaiterAtAFollowerGetsTheLockAndLeadershipAfterTheLeaderIsMovedAndKilled()
    {
        using var c = new LocalCluster(3);
        c.StartAll();
        var leader = await c.WaitForLeaderAsync();
        await c.WaitReadyAsync();
        var followers = c.Nodes.Where(n => n != leader).ToList();
        var waiterNode = followers[0];

        // Round 1: leadership moves to the holder's member; the old leader lives on.
        var target = followers[1];
        await RoundAsync("moved", holderNode: target, waiterNode, campaign: false, async () =>
        {
            using var moved = await c.Http.PostAsync($"{leader.Http}/admin/move-leader?target={target.NodeId}", null);
            Assert.True(moved.IsSuccessStatusCode, await moved.Content.ReadAsStringAsync());
            await Eventually.TrueAsync(async () => await c.WaitForLeaderAsync() == target, Wait, $"node {target.NodeId} leads");
        });

        // Round 2: the leader (round 1's target) is killed; the holder talks to the old leader, now a follower.
        await RoundAsync("killed", holderNode: leader, waiterNode, campaign: true, async () =>
        {
            target.Kill();
            var next = await c.WaitForLeaderAsync();
            output.WriteLine($"node {target.NodeId} killed; node {next.NodeId} leads");
        });
    }

    /// <summary>A holds lock (and, with <paramref name="campaign"/>, leads election) <paramref name="name"/> through
    /// <paramref name="holderNode"/>; B waits for it through <paramref name="waiterNode"/>; the leader changes
    /// (<paramref name="changeLeader"/>); A releases; B must get it.</summary>
    private async Task RoundAsync(string name, ServerProcess holderNode, ServerProcess waiterNode, bool campaign, Func<Task> changeLeader)
    {
        using var holder = ClientOf(holderNode);
        using var waiter = ClientOf(waiterNode);
        long la = await GrantAsync(holder), le = await GrantAsync(holder), lb = await GrantAsync(waiter), lc = await GrantAsync(waiter);
        var held = await holder.LockAsync(new LockRequest { Name = Utf8(name), Lease = la });
        var locking = waiter.LockAsync(new LockRequest { Name = Utf8(name), Lease = lb });
        await WaitKeyAsync(holder, $"{name}/{Hex(lb)}");
        CampaignResponse? elected = null;
        Task<CampaignResponse>? campaigning = null;
        if (campaign)
        {
            elected = await holder.CampaignAsync(new CampaignRequest { Name = Utf8("el-" + name), Lease = le, Value = Utf8("a") });
            campaigning = waiter.CampaignAsync(new CampaignRequest { Name = Utf8("el-" + name), Lease = lc, Value = Utf8("c") });
            await WaitKeyAsync(holder, $"el-{name}/{Hex(lc)}");
        }

        await changeLeader();
        output.WriteLine($"{name}: holder at node {holderNode.NodeId}, waiter at node {waiterNode.NodeId}");
        Assert.False(locking.IsCompleted, $"{name}: the lock waiter returned while the lock was held: {locking.Exception?.GetBaseException().Message}");
        Assert.False(campaigning?.IsCompleted ?? false, $"{name}: the candidate returned while the leader held: {campaigning?.Exception?.GetBaseException().Message}");

        // Released through the holder's member once the new leader takes writes (retried over the election's end).
        await RetryAsync(() => holder.UnlockAsync(new UnlockRequest { Key = held.Key }));
        var got = await locking.WaitAsync(Wait);
        Assert.Equal($"{name}/{Hex(lb)}", got.Key.ToStringUtf8());
        var owner = await holder.GetAsync(new RangeRequest
        {
            Key = Utf8(name + "/"),
            RangeEnd = Utf8(name + "0"),
            SortTarget = RangeRequest.Types.SortTarget.Create,
            SortOrder = RangeRequest.Types.SortOrder.Ascend,
        });
        Assert.Equal([$"{name}/{Hex(lb)}"], owner.Kvs.Select(kv => kv.Key.ToStringUtf8()));

        if (campaigning is not null)
        {
            await RetryAsync(() => holder.ResignAsync(new ResignRequest { Leader = elected!.Leader }));
            var won = await campaigning.WaitAsync(Wait);
            Assert.Equal($"el-{name}/{Hex(lc)}", won.Leader.Key.ToStringUtf8());
            var now = await holder.LeaderAsync(new V3Electionpb.LeaderRequest { Name = Utf8("el-" + name) });
            Assert.Equal(($"el-{name}/{Hex(lc)}", "c"), (now.Kv.Key.ToStringUtf8(), now.Kv.Value.ToStringUtf8()));
        }
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
