namespace RaftKv.EndToEnd.Tests.Etcd.Clients;

/// <summary>
/// Python's etcd clients against a 3-node RaftKv with TLS (certificates of a test CA, mutual TLS between the nodes)
/// and auth on, at the leader and at a follower: etcd3 0.12 over gRPC/TLS as user "py", whose role may read and write
/// <c>py/</c> and <c>/locks/</c> (its locks' keys) only — kv, txn, watch with compaction, leases, locks, member list,
/// status and alarms, and etcd's refusals outside the role or with a wrong password; etcd3gw 2.0 (no auth support) over
/// HTTPS lists members and reads the status, which etcd serves without a user.
/// </summary>
public sealed class PythonEtcdClientsTlsAuthTests
{
    [Fact]
    public async Task PythonClientsWorkOverTlsWithAuthOn()
    {
        using var kit = new TlsTestKit();
        using var c = kit.Cluster(3);
        c.StartAll();
        var leader = await c.WaitForLeaderAsync();
        await c.WaitReadyAsync();
        var follower = c.Nodes.First(n => n.IsRunning && n != leader);

        foreach (var args in new[]
        {
            new[] { "user", "add", "root:root-pw" },
            ["role", "add", "py"],
            ["role", "grant-permission", "py", "--prefix=true", "readwrite", "py/"],
            ["role", "grant-permission", "py", "--prefix=true", "readwrite", "/locks/"],
            ["user", "add", "py:py-pw"],
            ["user", "grant-role", "py", "py"],
            ["auth", "enable"],
        })
        {
            (await Etcdctl.RunAsync(leader.Grpc, ["--cacert", kit.CaFile, .. args])).Ok();
        }

        // requests (under etcd3gw) lets REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE override a session's CA file; a machine that
        // sets them (this one does) would make etcd3gw trust the system store only: they name the test CA here.
        var environment = new Dictionary<string, string>
        {
            ["PY_ETCD_CA"] = kit.CaFile,
            ["PY_ETCD_USER"] = "py",
            ["PY_ETCD_PASSWORD"] = "py-pw",
            ["REQUESTS_CA_BUNDLE"] = kit.CaFile,
            ["CURL_CA_BUNDLE"] = kit.CaFile,
        };
        foreach (var node in new[] { leader, follower })
        {
            foreach (var check in new[] { "grpc-kv", "grpc-txn", "grpc-watch", "grpc-lease", "grpc-lock", "grpc-cluster", "grpc-auth", "gw-cluster" })
            {
                var (code, output, err) = await ScriptProcess.RunAsync(
                    PythonEtcdClientsTests.Python, ["check.py", node.Grpc, node.Http, check], PythonEtcdClientsTests.Folder, TimeSpan.FromMinutes(3), PythonEtcdClientsTests.InstallHint, environment);
                Assert.True(code == 0, $"python check {check} at node {node.NodeId} (TLS, auth) failed ({code}):\n{output}\n{err}");
                Assert.StartsWith("ok ", output, StringComparison.Ordinal);
            }
        }
    }
}
