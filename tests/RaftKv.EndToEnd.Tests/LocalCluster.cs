using System.Net.Http.Json;
using System.Text.Json;

namespace RaftKv.EndToEnd.Tests;

/// <summary>N raftkv processes forming one cluster on loopback.</summary>
internal sealed class LocalCluster : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "raftkv-e2e-" + Guid.NewGuid().ToString("N"));

    /// <param name="size">Number of nodes (1 = no peers).</param>
    /// <param name="extraEnv">Settings of every node.</param>
    /// <param name="nodeEnv">Per-node settings on top of <paramref name="extraEnv"/> (by node id), e.g. certificate files.</param>
    /// <param name="http">The client for /health polling and tests (default: plaintext); e.g. one trusting a test CA.</param>
    public LocalCluster(int size, IReadOnlyDictionary<string, string>? extraEnv = null, Func<long, IReadOnlyDictionary<string, string>?>? nodeEnv = null, HttpClient? http = null)
    {
        Http = http ?? new HttpClient { Timeout = TimeSpan.FromSeconds(20) };
        var raft = Enumerable.Range(0, size).Select(_ => ServerProcess.FreePort()).ToList();
        var peers = string.Join(',', raft.Select((p, i) => $"{i + 1}=127.0.0.1:{p}"));
        for (var i = 0; i < size; i++)
        {
            var env = new Dictionary<string, string>(extraEnv ?? new Dictionary<string, string>());
            foreach (var (k, v) in nodeEnv?.Invoke(i + 1) ?? new Dictionary<string, string>())
            {
                env[k] = v;
            }

            Nodes.Add(new ServerProcess(i + 1, Path.Combine(_root, $"n{i + 1}"), ServerProcess.FreePort(), ServerProcess.FreePort(), raft[i], size == 1 ? string.Empty : peers, env));
        }
    }

    public List<ServerProcess> Nodes { get; } = [];

    public HttpClient Http { get; }

    public string Root => _root;

    public void StartAll()
    {
        foreach (var n in Nodes)
        {
            n.Start();
        }
    }

    /// <summary>Waits until some running node reports itself leader via /health; returns it.</summary>
    public async Task<ServerProcess> WaitForLeaderAsync(TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        while (DateTime.UtcNow < deadline)
        {
            foreach (var n in Nodes.Where(n => n.IsRunning))
            {
                try
                {
                    using var r = await Http.GetAsync(n.Http + "/health");
                    var body = await r.Content.ReadFromJsonAsync<JsonElement>();
                    if (body.GetProperty("role").GetString() == "leader")
                    {
                        return n;
                    }
                }
                catch (HttpRequestException)
                {
                }
                catch (TaskCanceledException)
                {
                }
                catch (JsonException)
                {
                    // A node still starting may answer before its JSON routes are mapped.
                }
            }

            await Task.Delay(Poll.Interval);
        }

        throw new TimeoutException("no leader elected; logs:\n" + string.Join("\n----\n", Nodes.Select(n => n.Log()[^Math.Min(3000, n.Log().Length)..])));
    }

    /// <summary>Waits until every running node answers /health/ready.</summary>
    public async Task WaitReadyAsync(TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        foreach (var n in Nodes.Where(n => n.IsRunning))
        {
            while (true)
            {
                try
                {
                    using var r = await Http.GetAsync(n.Http + "/health/ready");
                    if (r.IsSuccessStatusCode)
                    {
                        break;
                    }
                }
                catch (HttpRequestException)
                {
                }

                if (DateTime.UtcNow > deadline)
                {
                    throw new TimeoutException($"node {n.NodeId} never became ready; log:\n{n.Log()}");
                }

                await Task.Delay(Poll.Interval);
            }
        }
    }

    public void Dispose()
    {
        foreach (var n in Nodes)
        {
            n.Dispose();
        }

        Http.Dispose();
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
