using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using V3Lock = RaftKv.Protocol.Etcd.V3Lock;

namespace RaftKv.EndToEnd.Tests.Auth;

public sealed partial class AuthProcessTests
{
    /// <summary>etcd's Lock service (not etcdctl's lock, which runs over KV) through a follower: the follower runs the
    /// Lock and sends its writes — the session lease of lease 0 and the create txn — to the leader with a token it
    /// minted for the caller, which the leader checks again; a user who may only read the prefix is refused (etcd's
    /// text, UNKNOWN as its lock server answers).</summary>
    private static async Task LockServiceThroughFollowerAsync(string grpc, string rootToken, string aliceToken)
    {
        using var channel = GrpcChannel.ForAddress("http://" + grpc);
        var client = new V3Lock.Lock.LockClient(channel);
        var held = await client.LockAsync(new V3Lock.LockRequest { Name = ByteString.CopyFromUtf8("b/svc") }, Token(rootToken));
        Assert.StartsWith("b/svc/", held.Key.ToStringUtf8(), StringComparison.Ordinal);
        await client.UnlockAsync(new V3Lock.UnlockRequest { Key = held.Key }, Token(rootToken));

        var denied = await Assert.ThrowsAsync<RpcException>(async () => await client.LockAsync(new V3Lock.LockRequest { Name = ByteString.CopyFromUtf8("a/svc") }, Token(aliceToken)));
        Assert.Equal((StatusCode.Unknown, "etcdserver: permission denied"), (denied.StatusCode, denied.Status.Detail));
    }
}
