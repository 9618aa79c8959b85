namespace RaftKv.EndToEnd.Tests.Etcd.Clients;

/// <summary>The npm etcd3 client (node, @grpc/grpc-js, etcd's protos loaded at run time) against a real 3-node
/// RaftKv: each check of tests/etcd/js/check.mjs (kv with prefixes and history, txn, watch and its resume point,
/// compaction errors, lease keep-alive and expiry, member list and status) as one test.</summary>
[Collection(EtcdCollection.Name)]
public sealed class Etcd3NpmTests(EtcdClusterFixture fixture)
{
    [Theory]
    [InlineData("kv")]
    [InlineData("txn")]
    [InlineData("watch")]
    [InlineData("compactedWatch")]
    [InlineData("lease")]
    [InlineData("cluster")]
    public async Task Etcd3ClientCheckPasses(string check)
    {
        var (code, output, err) = await NodeScript.CheckAsync(fixture.Endpoints, check, TimeSpan.FromMinutes(4));
        Assert.True(code == 0, $"etcd3 check {check} failed ({code}):\n{output}\n{err}");
        Assert.StartsWith("ok ", output, StringComparison.Ordinal);
    }
}
