using System.Diagnostics;

namespace RaftKv.EndToEnd.Tests;

/// <summary>
/// scripts/k8s-start.sh, the entry point of a pod of k8s/statefulset.yaml, run here with <c>env</c> as the command it
/// execs: the node id from the pod ordinal, and INITIAL_CLUSTER_STATE for an empty data directory chosen by asking the
/// other members of PEERS (a real RaftKv node) whether they are ready.
/// </summary>
public sealed class K8sStartScriptTests : IDisposable
{
    private readonly string _data = Path.Combine(Path.GetTempPath(), "raftkv-k8s-start-" + Guid.NewGuid().ToString("N"));

    public K8sStartScriptTests() => Directory.CreateDirectory(_data);

    private static async Task<(int Code, Dictionary<string, string> Env, string Err)> RunAsync(IReadOnlyDictionary<string, string> env)
    {
        var psi = new ProcessStartInfo("sh") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(Path.Combine(RepoPaths.Root, "scripts", "k8s-start.sh"));
        psi.ArgumentList.Add("env");
        psi.Environment.Remove("INITIAL_CLUSTER_STATE");
        foreach (var (k, v) in env)
        {
            psi.Environment[k] = v;
        }

        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(1));
        var vars = (await stdout).Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split('=', 2)).Where(kv => kv.Length == 2).GroupBy(kv => kv[0]).ToDictionary(g => g.Key, g => g.Last()[1], StringComparer.Ordinal);
        return (p.ExitCode, vars, await stderr);
    }

    [Fact]
    public async Task EmptyPodJoinsAsExistingWhenAnotherMemberIsReadyAndAsNewOtherwise()
    {
        var node = SharedNode.Get();
        var httpPort = new Uri(node.Url).Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var closed = ServerProcess.FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture);

        // Pod raftkv-1 (node 2) with an empty volume; member 1 answers /health/ready on the shared port.
        var env = new Dictionary<string, string>
        {
            ["HOSTNAME"] = "raftkv-1",
            ["POD_NAMESPACE"] = "prod",
            ["DATA_DIR"] = _data,
            ["HTTP_PORT"] = httpPort,
            ["PEERS"] = "1=127.0.0.1:7000,2=127.0.0.2:7000,3=127.0.0.3:7000",
        };
        var (code, vars, err) = await RunAsync(env);
        Assert.True(code == 0, err);
        Assert.Equal("2", vars["NODE_ID"]);
        Assert.Equal("raftkv-1.raftkv-peers.prod.svc.cluster.local", vars["ADVERTISE_HOST"]);
        Assert.Equal("existing", vars["INITIAL_CLUSTER_STATE"]);

        // No other member answers (the StatefulSet's first start): new. Its own address is never asked.
        env["PEERS"] = "1=127.0.0.2:7000,2=127.0.0.1:7000,3=127.0.0.3:7000";
        (code, vars, err) = await RunAsync(env);
        Assert.True(code == 0, err);
        Assert.Equal("new", vars["INITIAL_CLUSTER_STATE"]);
        env["PEERS"] = "1=127.0.0.1:7000,2=127.0.0.2:7000,3=127.0.0.3:7000";
        env["HTTP_PORT"] = closed;
        (_, vars, _) = await RunAsync(env);
        Assert.Equal("new", vars["INITIAL_CLUSTER_STATE"]);

        // A volume holding data: the setting is left alone (the server ignores it then anyway); lost+found does not
        // count, nor the files a start makes before any data (a first start that failed early).
        env["HTTP_PORT"] = httpPort;
        Directory.CreateDirectory(Path.Combine(_data, "lost+found"));
        await File.WriteAllTextAsync(Path.Combine(_data, "LOCK"), "1\n");
        await File.WriteAllTextAsync(Path.Combine(_data, "archive-id"), "0123456789abcdef\n");
        (_, vars, _) = await RunAsync(env);
        Assert.Equal("existing", vars["INITIAL_CLUSTER_STATE"]);
        await File.WriteAllTextAsync(Path.Combine(_data, "membership"), "x");
        (_, vars, _) = await RunAsync(env);
        Assert.False(vars.ContainsKey("INITIAL_CLUSTER_STATE"));

        // A host name without an ordinal is refused.
        env["HOSTNAME"] = "raftkv";
        (code, _, err) = await RunAsync(env);
        Assert.Equal(2, code);
        Assert.Contains("ordinal", err, StringComparison.Ordinal);
    }

    public void Dispose() => Directory.Delete(_data, recursive: true);
}
