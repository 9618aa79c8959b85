using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace RaftKv.EndToEnd.Tests.Etcd.Patroni;

/// <summary>
/// One Patroni member (Debian's patroni 3.0 with PostgreSQL 15; .ci/run installs both) using RaftKv as its etcd v3
/// store: its own PostgreSQL data directory, REST port and PostgreSQL port. Runs as user postgres (PostgreSQL refuses
/// root) through runuser; the temporary folder is world-writable so that user can create its data directory in it.
/// </summary>
internal sealed class PatroniNode : IDisposable
{
    private const string PostgresBin = "/usr/lib/postgresql/15/bin";
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(5) };

    private readonly string _config;
    private readonly string _log;
    private Process? _process;

    /// <summary>A member named <paramref name="name"/> of Patroni cluster <paramref name="scope"/>, its files in
    /// <paramref name="folder"/>, talking to the RaftKv gRPC (client) ports <paramref name="etcdHosts"/> as
    /// <paramref name="user"/> (etcd3 <c>username</c>/<c>password</c>; null with auth off).</summary>
    public PatroniNode(string folder, string scope, string name, IEnumerable<string> etcdHosts, (string Name, string Password)? user = null)
    {
        Name = name;
        RestPort = ServerProcess.FreePort();
        PostgresPort = ServerProcess.FreePort();
        _config = Path.Combine(folder, name + ".yml");
        _log = Path.Combine(folder, name + ".log");
        var hosts = string.Join(", ", etcdHosts);
        var credentials = user is { } u ? $"\n  username: {u.Name}\n  password: {u.Password}" : "";
        // Patroni needs loop_wait + 2 × retry_timeout ≤ ttl; a short ttl keeps the failover (lease expiry) short.
        File.WriteAllText(_config, $$"""
            scope: {{scope}}
            name: {{name}}
            restapi:
              listen: 127.0.0.1:{{RestPort}}
              connect_address: 127.0.0.1:{{RestPort}}
            etcd3:
              hosts: [{{hosts}}]{{credentials}}
            bootstrap:
              dcs:
                ttl: 20
                loop_wait: 2
                retry_timeout: 5
              initdb:
              - encoding: UTF8
            postgresql:
              listen: 127.0.0.1:{{PostgresPort}}
              connect_address: 127.0.0.1:{{PostgresPort}}
              data_dir: {{Path.Combine(folder, name)}}
              bin_dir: {{PostgresBin}}
              pgpass: {{Path.Combine(folder, name + ".pgpass")}}
              parameters:
                unix_socket_directories: '{{folder}}'
              authentication:
                superuser: {username: postgres, password: pw}
                replication: {username: repl, password: pw}
            """);
    }

    public string Name { get; }

    /// <summary>A temporary folder user postgres may write (its members' data directories, configs and logs go there).</summary>
    public static string CreateFolder()
    {
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("Patroni and PostgreSQL run on Linux here");
        }

        var folder = Directory.CreateTempSubdirectory("raftkv-patroni-").FullName;
        File.SetUnixFileMode(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
            | UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute
            | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute);
        return folder;
    }

    public int RestPort { get; }

    public int PostgresPort { get; }

    public string Log => File.Exists(_log) ? File.ReadAllText(_log) : "";

    public void Start()
    {
        if (!File.Exists("/usr/bin/patroni") || !File.Exists(Path.Combine(PostgresBin, "postgres")))
        {
            throw new InvalidOperationException("patroni and PostgreSQL 15 are not installed (Debian: apt-get install patroni postgresql; .ci/run does this)");
        }

        // sh redirects Patroni's output (and PostgreSQL's, which it inherits) to the log file; runuser drops to postgres.
        var psi = new ProcessStartInfo("runuser") { UseShellExecute = false };
        foreach (var a in new[] { "-u", "postgres", "--", "sh", "-c", $"exec patroni '{_config}' >> '{_log}' 2>&1" })
        {
            psi.ArgumentList.Add(a);
        }

        _process = Process.Start(psi)!;
    }

    /// <summary>SIGKILL to Patroni and the PostgreSQL it runs, as a machine crash: nothing is released in the store.</summary>
    public void Kill()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }

        _process?.Dispose();
        _process = null;
    }

    /// <summary>Patroni's own view (<c>GET /patroni</c>): role ("master" or "primary" for the leader, "replica"), state
    /// and timeline; null while its REST API does not answer.</summary>
    public async Task<(string Role, string State, int Timeline)?> StatusAsync()
    {
        try
        {
            using var doc = JsonDocument.Parse(await Http.GetStringAsync($"http://127.0.0.1:{RestPort}/patroni"));
            var root = doc.RootElement;
            var timeline = root.TryGetProperty("timeline", out var t) ? t.GetInt32() : 0;
            return (root.GetProperty("role").GetString() ?? "", root.GetProperty("state").GetString() ?? "", timeline);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException or KeyNotFoundException)
        {
            return null;
        }
    }

    public async Task<bool> IsPrimaryAsync() => await StatusAsync() is { Role: "master" or "primary", State: "running" };

    public async Task<bool> IsRunningReplicaAsync() => await StatusAsync() is { Role: "replica", State: "running" or "streaming" };

    /// <summary>Asks this member's REST API for a switchover from <paramref name="leader"/> to <paramref name="candidate"/>.</summary>
    public async Task<string> SwitchoverAsync(string leader, string candidate)
    {
        using var body = new StringContent(string.Create(CultureInfo.InvariantCulture, $$"""{"leader":"{{leader}}","candidate":"{{candidate}}"}"""));
        using var response = await Http.PostAsync($"http://127.0.0.1:{RestPort}/switchover", body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"switchover {leader} -> {candidate}: {(int)response.StatusCode} {text}");
        return text;
    }

    public void Dispose() => Kill();
}
