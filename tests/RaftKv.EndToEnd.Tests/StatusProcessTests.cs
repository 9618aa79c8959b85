using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Grpc.Net.Client;
using RaftKv.Client;
using DefragmentRequest = RaftKv.Protocol.Etcd.DefragmentRequest;
using Maintenance = RaftKv.Protocol.Etcd.Maintenance;
using StatusRequest = RaftKv.Protocol.Etcd.StatusRequest;

namespace RaftKv.EndToEnd.Tests;

/// <summary>
/// Status on a real single node: the native <c>Cluster.Status</c> header carries the store revision (as every
/// other native header and etcd's <c>Maintenance.Status</c> header do), and the term is a real Raft term: the
/// sole voter's leadership begins a term (not 0), which the native Status, its header, etcd's Status and
/// <c>/cluster</c> agree on, and a restart begins a later one.
/// </summary>
public sealed class StatusProcessTests
{
    private static byte[] B(string s) => Encoding.UTF8.GetBytes(s);

    [Fact]
    public async Task SingleNodeStatusReportsRevisionAndTerm()
    {
        using var c = new LocalCluster(1);
        var node = c.Nodes[0];
        node.Start();
        await c.WaitForLeaderAsync();
        await c.WaitReadyAsync();

        ulong termBefore;
        using (var client = new RaftKvClient([node.Grpc]))
        {
            await client.PutAsync(B("status/a"), B("1"));
            var put = await client.PutAsync(B("status/b"), B("2"));
            Assert.True(put.Header.Revision > 1, "put revision");

            var status = await client.StatusAsync();
            Assert.Equal(put.Header.Revision, status.Header.Revision); // nothing was written since
            Assert.True(status.Term > 0, $"the leader's term is {status.Term}");
            Assert.Equal(status.Term, status.Header.Term);
            Assert.Equal("leader", status.Role);

            using var channel = GrpcChannel.ForAddress("http://" + node.Grpc);
            var etcd = await new Maintenance.MaintenanceClient(channel).StatusAsync(new StatusRequest());
            Assert.Equal((long)put.Header.Revision, etcd.Header.Revision);
            Assert.Equal(status.Term, etcd.RaftTerm);
            Assert.Equal(status.Term, etcd.Header.RaftTerm);
            var defrag = await new Maintenance.MaintenanceClient(channel).DefragmentAsync(new DefragmentRequest());
            Assert.Equal((long)put.Header.Revision, defrag.Header.Revision); // etcd fills every header with the revision

            var cluster = await c.Http.GetFromJsonAsync<JsonElement>(node.Http + "/cluster");
            Assert.Equal((long)status.Term, cluster.GetProperty("term").GetInt64());
            Assert.Equal((long)put.Header.Revision, cluster.GetProperty("revision").GetInt64());
            termBefore = status.Term;
        }

        Assert.Equal(0, await node.TerminateAsync(TimeSpan.FromSeconds(60)));
        node.Start();
        await c.WaitForLeaderAsync();
        await c.WaitReadyAsync();
        using (var client = new RaftKvClient([node.Grpc]))
        {
            var status = await client.StatusAsync();
            Assert.True(status.Term > termBefore, $"term {status.Term} after a restart, {termBefore} before");
            Assert.Equal("2", (await client.GetAsync(B("status/b")))!.Value.ToStringUtf8());
            var put = await client.PutAsync(B("status/c"), B("3"));
            Assert.Equal(put.Header.Revision, (await client.StatusAsync()).Header.Revision);
        }
    }
}
