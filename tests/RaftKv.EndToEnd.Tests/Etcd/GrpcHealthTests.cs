using Grpc.Core;
using Grpc.Net.Client;
using RaftKv.Protocol.Health;
using V3 = RaftKv.Protocol.Etcd;

namespace RaftKv.EndToEnd.Tests.Etcd;

/// <summary>
/// gRPC's standard health service on the client port, as etcd 3.4 serves it (grpc_health_probe, Kubernetes gRPC
/// probes, gRPC load balancers): the empty service name is SERVING, any other is unknown, and it stays open to
/// callers without a token once auth is on.
/// </summary>
public sealed class GrpcHealthTests
{
    private const string RootPassword = "root-Pw-health-7c1";

    [Fact]
    public async Task TheServerIsServingAndUnknownServicesAreNotFoundWithOrWithoutAuth()
    {
        using var c = new LocalCluster(1);
        c.StartAll();
        await c.WaitForLeaderAsync();
        await c.WaitReadyAsync();
        var ep = c.Nodes[0].Grpc;
        using var channel = GrpcChannel.ForAddress("http://" + ep);
        var health = new Health.HealthClient(channel);
        await AnswersAsEtcdAsync(health);

        (await Etcdctl.RunAsync(ep, "user", "add", "root:" + RootPassword, "--interactive=false")).Ok();
        (await Etcdctl.RunAsync(ep, "auth", "enable")).Ok();
        var refused = await Assert.ThrowsAsync<RpcException>(() => new V3.KV.KVClient(channel).RangeAsync(new V3.RangeRequest { Key = Google.Protobuf.ByteString.CopyFromUtf8("a") }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, refused.StatusCode); // etcd: "user name is empty" without a token
        await AnswersAsEtcdAsync(health); // no token needed
    }

    private static async Task AnswersAsEtcdAsync(Health.HealthClient health)
    {
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, (await health.CheckAsync(new HealthCheckRequest())).Status);
        var unknown = await Assert.ThrowsAsync<RpcException>(() => health.CheckAsync(new HealthCheckRequest { Service = "etcdserverpb.KV" }).ResponseAsync);
        Assert.Equal((StatusCode.NotFound, "unknown service"), (unknown.StatusCode, unknown.Status.Detail));

        foreach (var (service, expected) in new[] { (string.Empty, HealthCheckResponse.Types.ServingStatus.Serving), ("nope", HealthCheckResponse.Types.ServingStatus.ServiceUnknown) })
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            using var watch = health.Watch(new HealthCheckRequest { Service = service }, cancellationToken: cts.Token);
            Assert.True(await watch.ResponseStream.MoveNext(cts.Token));
            Assert.Equal(expected, watch.ResponseStream.Current.Status);
        }
    }
}
