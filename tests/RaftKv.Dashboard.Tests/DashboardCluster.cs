using System.Net.Http.Json;
using System.Text.Json;
using RaftKv.EndToEnd.Tests;

namespace RaftKv.Dashboard.Tests;

/// <summary>A real 3-node cluster (raftkv processes on loopback) and a headless Chromium, for one test class.</summary>
public sealed class DashboardCluster : IAsyncLifetime
{
    private readonly IReadOnlyDictionary<string, string>? _env;
    private LocalCluster? _cluster;
    private Browser? _browser;

    public DashboardCluster()
    {
    }

    /// <summary>A cluster whose nodes get <paramref name="env"/> too (e.g. an object store and backups).</summary>
    internal DashboardCluster(IReadOnlyDictionary<string, string> env) => _env = env;

    internal LocalCluster Cluster => _cluster ?? throw new InvalidOperationException("not started");

    internal Browser Browser => _browser ?? throw new InvalidOperationException("not started");

    public HttpClient Http => Cluster.Http;

    /// <summary>etcdctl's --endpoints: every running node's gRPC address.</summary>
    public string Endpoints => string.Join(',', Cluster.Nodes.Where(n => n.IsRunning).Select(n => n.Grpc));

    public async Task InitializeAsync()
    {
        _cluster = new LocalCluster(3, _env);
        _cluster.StartAll();
        await _cluster.WaitForLeaderAsync();
        await _cluster.WaitReadyAsync();
        _browser = await Browser.LaunchAsync();
    }

    public async Task DisposeAsync()
    {
        if (_browser is not null)
        {
            await _browser.DisposeAsync();
        }

        _cluster?.Dispose();
    }

    /// <summary>The node every running node agrees leads (polling /health until one says so).</summary>
    internal Task<ServerProcess> LeaderAsync() => Cluster.WaitForLeaderAsync();

    /// <summary>A running node that is not the leader.</summary>
    internal async Task<ServerProcess> FollowerAsync()
    {
        var leader = await LeaderAsync();
        return Cluster.Nodes.First(n => n.IsRunning && n != leader);
    }

    /// <summary>Writes a key through the HTTP API (any node; followers forward to the leader).</summary>
    public async Task<long> PutAsync(string node, string key, string value)
    {
        using var r = await Http.PutAsJsonAsync(node + "/kv/" + key, new { value });
        r.EnsureSuccessStatusCode();
        return (await r.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("revision").GetInt64();
    }
}
