using Grpc.Core;
using Grpc.Net.Client;
using RaftKv.EndToEnd.Tests.Etcd;
using V3 = RaftKv.Protocol.Etcd;

namespace RaftKv.EndToEnd.Tests.Auth;

public sealed partial class AuthProcessTests
{
    /// <summary>etcd's checkLeasePuts: a put may attach a key to a lease only if the user may write every key already
    /// attached to it (else they could not revoke the lease they extend) — etcd's "permission denied", for a put and, so
    /// that wrapping the put in a txn does not get around it, for a txn's put too; root and a lease of one's own keys pass.</summary>
    [Fact]
    public async Task APutMayNotAttachAKeyToALeaseHoldingKeysTheUserCannotWrite()
    {
        const string CarolPassword = "carol-Pw-0d4e";
        var (c, ep) = await StartWithUserAsync("carol", CarolPassword, "c-writer", "c/");
        using var cluster = c;

        using var channel = GrpcChannel.ForAddress("http://" + ep);
        var kv = new V3.KV.KVClient(channel);
        var leases = new V3.Lease.LeaseClient(channel);
        var root = Token(await AuthenticateAsync(ep, "root", RootPassword));
        var carol = Token(await AuthenticateAsync(ep, "carol", CarolPassword));
        var foreign = (await leases.LeaseGrantAsync(new V3.LeaseGrantRequest { TTL = 600 }, root)).ID;
        await kv.PutAsync(new V3.PutRequest { Key = Bs("b/x"), Value = Bs("v"), Lease = foreign }, root);
        var own = (await leases.LeaseGrantAsync(new V3.LeaseGrantRequest { TTL = 600 }, carol)).ID;

        var put = await Assert.ThrowsAsync<RpcException>(() => kv.PutAsync(new V3.PutRequest { Key = Bs("c/1"), Value = Bs("v"), Lease = foreign }, carol).ResponseAsync);
        Assert.Equal((StatusCode.PermissionDenied, "etcdserver: permission denied"), (put.StatusCode, put.Status.Detail));
        var txn = new V3.TxnRequest();
        txn.Success.Add(new V3.RequestOp { RequestPut = new V3.PutRequest { Key = Bs("c/2"), Value = Bs("v"), Lease = foreign } });
        var wrapped = await Assert.ThrowsAsync<RpcException>(() => kv.TxnAsync(txn, carol).ResponseAsync);
        Assert.Equal((StatusCode.PermissionDenied, "etcdserver: permission denied"), (wrapped.StatusCode, wrapped.Status.Detail));
        var etcdctl = await Etcdctl.RunAsync(ep, "--user", "carol:" + CarolPassword, "put", "c/3", "v", "--lease=" + foreign.ToString("x", System.Globalization.CultureInfo.InvariantCulture));
        Assert.Contains("etcdserver: permission denied", etcdctl.Err, StringComparison.Ordinal);

        await kv.PutAsync(new V3.PutRequest { Key = Bs("c/4"), Value = Bs("v"), Lease = own }, carol);
        await kv.PutAsync(new V3.PutRequest { Key = Bs("c/5"), Value = Bs("v"), Lease = foreign }, root);
        var keys = await kv.RangeAsync(new V3.RangeRequest { Key = Bs("c/"), RangeEnd = Bs("c0"), KeysOnly = true }, carol);
        Assert.Equal(["c/4", "c/5"], keys.Kvs.Select(k => k.Key.ToStringUtf8()));
    }
}
