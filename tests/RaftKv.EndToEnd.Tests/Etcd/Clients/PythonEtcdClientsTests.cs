namespace RaftKv.EndToEnd.Tests.Etcd.Clients;

/// <summary>Python's etcd clients, as Debian packages them, against a real 3-node RaftKv, at the leader and at a
/// follower: etcd3 0.12 (grpcio, etcd's gRPC API) and OpenStack's etcd3gw 2.0 (etcd's JSON gateway, which sends
/// 64-bit integers such as lease IDs as JSON numbers and defaults to etcd 3.2's <c>/v3alpha/</c> path). Each check of
/// tests/etcd/py/check.py is one case; .ci/run installs python3-etcd3 and python3-etcd3gw.</summary>
[Collection(EtcdCollection.Name)]
public sealed class PythonEtcdClientsTests(EtcdClusterFixture fixture)
{
    /// <summary>Debian's interpreter, whose dist-packages hold the clients (a pyenv or venv python3 on PATH does not).</summary>
    internal const string Python = "/usr/bin/python3";

    internal static string Folder => Path.Combine(RepoPaths.Root, "tests", "etcd", "py");

    internal const string InstallHint = "Debian: apt-get install python3 python3-etcd3 python3-etcd3gw; .ci/run does this";

    [Theory]
    [InlineData("grpc-kv")]
    [InlineData("grpc-txn")]
    [InlineData("grpc-watch")]
    [InlineData("grpc-lease")]
    [InlineData("grpc-lock")]
    [InlineData("grpc-cluster")]
    [InlineData("gw-kv")]
    [InlineData("gw-lease")]
    [InlineData("gw-watch")]
    [InlineData("gw-lock")]
    [InlineData("gw-cluster")]
    [InlineData("gw-old-path")]
    public async Task PythonClientCheckPasses(string check)
    {
        var leader = await fixture.Cluster.WaitForLeaderAsync();
        var follower = fixture.Cluster.Nodes.First(n => n.IsRunning && n != leader);
        foreach (var node in new[] { leader, follower })
        {
            var (code, output, err) = await ScriptProcess.RunAsync(
                Python, ["check.py", node.Grpc, node.Http, check], Folder, TimeSpan.FromMinutes(3), InstallHint);
            Assert.True(code == 0, $"python check {check} at node {node.NodeId} failed ({code}):\n{output}\n{err}");
            Assert.StartsWith("ok ", output, StringComparison.Ordinal);
        }
    }
}
