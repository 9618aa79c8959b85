namespace RaftKv.EndToEnd.Tests.Etcd.Clients;

/// <summary>etcd's own Go client (go.etcd.io/etcd/clientv3 3.4, the client of etcdctl, Kubernetes and most Go
/// services) through tests/etcd/go: a program built once per test run, in GOPATH mode against Debian's source package
/// golang-etcd-server-dev with Debian's Go (no module download), whose checks each print "ok CHECK".</summary>
internal static class GoClientV3
{
    private const string InstallHint = "Debian: apt-get install golang-go golang-etcd-server-dev; .ci/run does this";

    private static readonly Lazy<Task<string>> Built = new(BuildAsync);

    public static string Folder => Path.Combine(RepoPaths.Root, "tests", "etcd", "go");

    /// <summary>Runs <c>clientv3check [args] check</c> to its end: exit code, stdout, stderr.</summary>
    public static async Task<(int Code, string Out, string Err)> CheckAsync(string check, IEnumerable<string> args, TimeSpan timeout)
    {
        var program = await Built.Value;
        return await ScriptProcess.RunAsync(program, [.. args, check], Folder, timeout, InstallHint);
    }

    /// <summary>Runs a check and asserts it passed, naming the endpoint in the failure.</summary>
    public static Task PassesAsync(string check, string endpoints, params string[] args) => PassesAsync(check, endpoints, null, args);

    /// <summary>Runs a check and asserts it passed, naming the endpoint in the failure, followed by the auth refusals
    /// <paramref name="cluster"/>'s nodes logged (<see cref="StartTlsAuthClusterAsync"/> logs them).</summary>
    public static async Task PassesAsync(string check, string endpoints, LocalCluster? cluster, params string[] args)
    {
        var (code, output, err) = await CheckAsync(check, ["-endpoints", endpoints, .. args], TimeSpan.FromMinutes(4));
        if (code == 0 && output.Contains("ok " + check, StringComparison.Ordinal))
        {
            return;
        }

        var refusals = cluster is null ? string.Empty : string.Join('\n', cluster.Nodes.Select(n =>
            $"node {n.NodeId}:\n" + string.Join('\n', n.Log().Split('\n').Where(l => l.Contains("Auth token refused", StringComparison.Ordinal)).TakeLast(20))));
        Assert.Fail($"Go clientv3 check {check} at {endpoints} failed ({code}):\n{output}\n{err}\n{refusals}");
    }

    /// <summary>A started, ready 3-node cluster with TLS (node certificates of <paramref name="kit"/>'s CA) and auth on
    /// (user root, password <c>root-pw</c>), whose auth tokens live 3 s so clients renew them during a check.</summary>
    public static async Task<LocalCluster> StartTlsAuthClusterAsync(TlsTestKit kit)
    {
        var c = kit.Cluster(3, new Dictionary<string, string> { ["AUTH_TOKEN_TTL"] = "3", ["Logging__LogLevel__RaftKv.Server.Security.Auth.AuthGate"] = "Debug" });
        try
        {
            c.StartAll();
            var leader = await c.WaitForLeaderAsync();
            await c.WaitReadyAsync();
            (await Etcdctl.RunAsync(leader.Grpc, "--cacert", kit.CaFile, "user", "add", "root:root-pw")).Ok();
            (await Etcdctl.RunAsync(leader.Grpc, "--cacert", kit.CaFile, "auth", "enable")).Ok();
            return c;
        }
        catch
        {
            c.Dispose();
            throw;
        }
    }

    private static async Task<string> BuildAsync()
    {
        var output = Path.Combine(Path.GetTempPath(), $"raftkv-clientv3check-{Environment.ProcessId}");
        var environment = new Dictionary<string, string>
        {
            ["GO111MODULE"] = "off",
            ["GOPATH"] = "/usr/share/gocode",
            ["GOFLAGS"] = string.Empty,
            ["GOCACHE"] = Path.Combine(Path.GetTempPath(), "raftkv-go-build-cache"),
        };
        var (code, stdout, stderr) = await ScriptProcess.RunAsync("go", ["build", "-o", output, "."], Folder, TimeSpan.FromMinutes(5), InstallHint, environment);
        if (code != 0)
        {
            throw new InvalidOperationException($"go build in {Folder} failed ({code}; {InstallHint}):\n{stdout}\n{stderr}");
        }

        AppDomain.CurrentDomain.ProcessExit += (_, _) => File.Delete(output);
        return output;
    }
}
