using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using RaftKv.EndToEnd.Tests.FaultInjection;
using V3 = RaftKv.Protocol.Etcd;

namespace RaftKv.EndToEnd.Tests.Etcd;

/// <summary>
/// A write a follower forwarded to the leader is answered by that follower only once it has applied it
/// (Pipeline/GrpcLeaderForwarder and HttpLeaderForwarder: the leader's applied index comes back in a trailer or header,
/// LeaderRouter.CatchUpAsync), as
/// each etcd member applies a proposal before it answers: what a client wrote through a member is there when the
/// answer arrives — for a serializable read, and for the auth gate's next decision. The npm etcd3 client's own suite
/// (removeAuth) disables auth as root through one member and lists the users there at once without a token: judged
/// on the member's not-yet-applied state, the listing got "etcdserver: user name is empty". The follower is made to
/// lag by dropping the packets to its Raft port (iptables, root) until the leader has applied the write.
/// </summary>
public sealed class EtcdFollowerWriteVisibilityTests
{
    private const string RootPassword = "root-Pw-81d3";

    [Fact]
    public async Task AWriteIsVisibleOnTheFollowerThatAnsweredIt()
    {
        using var c = new LocalCluster(3);
        c.StartAll();
        var leader = await c.WaitForLeaderAsync();
        await c.WaitReadyAsync();
        var follower = c.Nodes.First(n => n != leader);
        using var toLeader = GrpcChannel.ForAddress("http://" + leader.Grpc);
        using var toFollower = GrpcChannel.ForAddress("http://" + follower.Grpc);
        var kvLeader = new V3.KV.KVClient(toLeader);
        var kvFollower = new V3.KV.KVClient(toFollower);
        await kvLeader.PutAsync(Put("k", "old"));
        await Eventually.TrueAsync(async () => await ValueAsync(kvFollower, "k") == "old", TimeSpan.FromSeconds(30), "the follower applies the first put");

        // 1. A put through the follower.
        await ThroughLaggingFollowerAsync(
            follower,
            write: () => kvFollower.PutAsync(Put("k", "new")).ResponseAsync,
            applied: async () => await ValueAsync(kvLeader, "k") == "new",
            visible: async () => await ValueAsync(kvFollower, "k") == "new");

        // 2. A put through the follower's native HTTP API (Pipeline/HttpLeaderForwarder: the same catch-up).
        await ThroughLaggingFollowerAsync(
            follower,
            write: async () =>
            {
                using var put = await c.Http.PutAsync($"{follower.Http}/kv/h", new StringContent("new"));
                put.EnsureSuccessStatusCode();
            },
            applied: async () => await ValueAsync(kvLeader, "h") == "new",
            visible: async () => await ValueAsync(kvFollower, "h") == "new");

        // 3. AuthDisable through the follower, then a call without a token there (etcd3's removeAuth).
        var authLeader = new V3.Auth.AuthClient(toLeader);
        var authFollower = new V3.Auth.AuthClient(toFollower);
        await authLeader.UserAddAsync(new V3.AuthUserAddRequest { Name = "root", Password = RootPassword });
        await authLeader.UserGrantRoleAsync(new V3.AuthUserGrantRoleRequest { User = "root", Role = "root" });
        await authLeader.AuthEnableAsync(new V3.AuthEnableRequest());
        await Eventually.TrueAsync(async () => !await ListsUsersAsync(authFollower), TimeSpan.FromSeconds(30), "the follower applies auth enable");
        var token = (await authFollower.AuthenticateAsync(new V3.AuthenticateRequest { Name = "root", Password = RootPassword })).Token;
        await ThroughLaggingFollowerAsync(
            follower,
            write: () => authFollower.AuthDisableAsync(new V3.AuthDisableRequest(), new Metadata { { "token", token } }).ResponseAsync,
            applied: async () => !(await authLeader.AuthStatusAsync(new V3.AuthStatusRequest())).Enabled,
            visible: () => ListsUsersAsync(authFollower));
    }

    /// <summary>Sends <paramref name="write"/> to <paramref name="follower"/> while its Raft port drops packets. Once the
    /// leader has applied the write (<paramref name="applied"/>), a follower still waiting to answer is let catch up.
    /// When the answer arrives the write must be <paramref name="visible"/> there, checked before the block ends.</summary>
    private static async Task ThroughLaggingFollowerAsync(ServerProcess follower, Func<Task> write, Func<Task<bool>> applied, Func<Task<bool>> visible)
    {
        using var block = LoopbackPortBlock.Start(follower.RaftPort);
        var answer = write();
        await Eventually.TrueAsync(async () => answer.IsCompleted || await applied(), TimeSpan.FromSeconds(30), "the leader applies the write");
        if (!answer.IsCompleted)
        {
            Assert.False(await visible(), "the follower lags while its Raft port drops packets");
            block.Lift();
        }

        await answer;
        Assert.True(await visible(), "the write is visible on the follower that answered it");
    }

    private static V3.PutRequest Put(string key, string value) => new() { Key = ByteString.CopyFromUtf8(key), Value = ByteString.CopyFromUtf8(value) };

    /// <summary>A serializable read: the member's own applied state.</summary>
    private static async Task<string?> ValueAsync(V3.KV.KVClient kv, string key)
    {
        var r = await kv.RangeAsync(new V3.RangeRequest { Key = ByteString.CopyFromUtf8(key), Serializable = true });
        return r.Kvs.Count == 0 ? null : r.Kvs[0].Value.ToStringUtf8();
    }

    /// <summary>UserList without a token: allowed only while auth is off on that member.</summary>
    private static async Task<bool> ListsUsersAsync(V3.Auth.AuthClient auth)
    {
        try
        {
            await auth.UserListAsync(new V3.AuthUserListRequest());
            return true;
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.InvalidArgument)
        {
            return false; // etcdserver: user name is empty
        }
    }
}
