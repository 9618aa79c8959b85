using dotnet_etcd;
using Etcdserverpb;
using Google.Protobuf;
using Grpc.Core;

namespace RaftKv.EndToEnd.Tests.Etcd;

/// <summary>AUTO_COMPACTION_MODE=periodic on a real 3-node cluster: the leader compacts through Raft, so every member
/// answers a read below the compact revision with etcd's "required revision has been compacted", while the latest
/// revisions stay readable. (Decisions per mode are unit-tested in RaftKv.Server.Tests.AutoCompactionTests.)</summary>
public sealed class AutoCompactionProcessTests
{
    [Fact]
    public async Task PeriodicAutoCompactionCompactsOnEveryMember()
    {
        using var c = new LocalCluster(3, new Dictionary<string, string> { ["AUTO_COMPACTION_MODE"] = "periodic", ["AUTO_COMPACTION_RETENTION"] = "2s" });
        c.StartAll();
        await c.WaitForLeaderAsync();
        await c.WaitReadyAsync();
        var clients = c.Nodes.Select(n => new EtcdClient("http://" + n.Grpc, configureChannelOptions: o => o.Credentials = ChannelCredentials.Insecure)).ToList();
        try
        {
            var first = (await clients[0].PutAsync("ac/k", "0")).Header.Revision;
            for (var i = 1; i <= 20; i++)
            {
                await clients[i % 3].PutAsync("ac/k", i.ToString(System.Globalization.CultureInfo.InvariantCulture));
            }

            foreach (var client in clients)
            {
                await Eventually.TrueAsync(
                    async () =>
                    {
                        try
                        {
                            await client.GetAsync(new RangeRequest { Key = ByteString.CopyFromUtf8("ac/k"), Revision = first, Serializable = true });
                            await client.PutAsync("ac/tick", "x"); // keeps revisions moving so a newer sample ages in
                            return false;
                        }
                        catch (RpcException e) when (e.StatusCode == StatusCode.OutOfRange)
                        {
                            Assert.Equal("etcdserver: mvcc: required revision has been compacted", e.Status.Detail);
                            return true;
                        }
                    },
                    TimeSpan.FromSeconds(90),
                    "auto-compaction passed the first revision on this member");
            }

            var now = await clients[0].GetAsync("ac/k");
            Assert.Equal("20", Assert.Single(now.Kvs).Value.ToStringUtf8());
            Assert.Contains(c.Nodes, n => n.Log().Contains("Auto-compaction: compacted to revision", StringComparison.Ordinal));
        }
        finally
        {
            clients.ForEach(x => x.Dispose());
        }
    }
}
