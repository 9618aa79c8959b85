namespace RaftKv.EndToEnd.Tests.Etcd.Clients;

/// <summary>etcd's own Go client, clientv3 3.4 (<see cref="GoClientV3"/>), against a real 3-node RaftKv at the leader
/// and at a follower: kv with every range option, etcd's typed errors (which clientv3 maps from the status message),
/// txns, watches, leases, the Kubernetes API server's storage patterns (creates on mod revision 0, a paginated list at
/// one revision while objects change, optimistic updates, a watch from the list's revision, preconditioned deletes,
/// events on a shared lease, the compactor's txn), and the client's own layers — concurrency's Mutex, Election and STM, leasing, namespace,
/// ordering and mirror — and maintenance with clientv3/snapshot's save, status and restore. Each check passes against
/// etcd 3.4.23 run by hand (tests/etcd/go/main.go says how).</summary>
[Collection(EtcdCollection.Name)]
public sealed class GoClientV3Tests(EtcdClusterFixture fixture)
{
    [Theory]
    [InlineData("kv")]
    [InlineData("kv-errors")]
    [InlineData("txn")]
    [InlineData("watch")]
    [InlineData("watch-compacted")]
    [InlineData("lease")]
    [InlineData("kube")]
    [InlineData("mutex")]
    [InlineData("election")]
    [InlineData("stm")]
    [InlineData("leasing")]
    [InlineData("namespace")]
    [InlineData("mirror")]
    [InlineData("maintenance")]
    public async Task GoClientCheckPasses(string check)
    {
        var leader = await fixture.Cluster.WaitForLeaderAsync();
        var follower = fixture.Cluster.Nodes.First(n => n.IsRunning && n != leader);
        foreach (var node in new[] { leader, follower })
        {
            await GoClientV3.PassesAsync(check, node.Grpc);
        }
    }

    /// <summary>clientv3/ordering over every member: reads and writes spread across the endpoints never see a revision
    /// older than one seen before.</summary>
    [Fact]
    public async Task OrderingHoldsAcrossEveryMember()
    {
        await fixture.Cluster.WaitForLeaderAsync();
        await GoClientV3.PassesAsync("ordering", fixture.Endpoints);
    }
}
