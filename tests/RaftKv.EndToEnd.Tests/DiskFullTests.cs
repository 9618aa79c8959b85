using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Xunit.Abstractions;

namespace RaftKv.EndToEnd.Tests;

/// <summary>
/// A node whose data directory is on a full file system (a real 64 MiB tmpfs): writes are refused
/// promptly with 507 no_space, serializable reads keep working, nothing acknowledged is lost, and writes resume
/// once the file system is made larger, without a restart. Needs root (mount); skipped otherwise.
/// </summary>
[Collection("processes")]
public sealed class DiskFullTests : IDisposable
{
    private readonly ITestOutputHelper _output;
    private const int ValueBytes = 256 << 10;
    private readonly string _root = Path.Combine(Path.GetTempPath(), "raftkv-enospc-" + Guid.NewGuid().ToString("N"));
    private readonly string _mount; // the node's DATA_DIR itself (its log file, DATA_DIR + ".log", stays outside)
    private bool _mounted;

    public DiskFullTests(ITestOutputHelper output)
    {
        _output = output;
        _mount = Path.Combine(_root, "n1");
    }


    [Fact]
    public async Task FullDiskRefusesWritesKeepsReadsAndRecoversWhenSpaceReturns()
    {
        if (!Environment.IsPrivilegedProcess)
        {
            _output.WriteLine("skipped: mounting a tmpfs needs root");
            return;
        }

        Directory.CreateDirectory(_mount);
        Run("mount", $"-t tmpfs -o size=64m tmpfs {_mount}");
        _mounted = true;

        using var node = new ServerProcess(1, _mount, ServerProcess.FreePort(), ServerProcess.FreePort(), ServerProcess.FreePort(), string.Empty);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        node.Start();
        await WaitHealthyWriteAsync(http, node, "warmup");

        // Fill the disk until the node says it is full.
        var acked = new List<string>();
        string? noSpaceBody = null;
        for (var i = 0; i < 2000 && noSpaceBody is null; i++)
        {
            var key = $"fill/{i}";
            using var response = await PutAsync(http, node, key);
            if (response.StatusCode == HttpStatusCode.OK)
            {
                acked.Add(key);
            }
            else if ((int)response.StatusCode == 507)
            {
                noSpaceBody = await response.Content.ReadAsStringAsync();
            }
            else
            {
                _output.WriteLine($"put {key}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            }
        }

        Assert.NotNull(noSpaceBody);
        _output.WriteLine($"acked {acked.Count} puts before 507: {noSpaceBody}");
        using (var doc = JsonDocument.Parse(noSpaceBody!))
        {
            Assert.Equal("no_space", doc.RootElement.GetProperty("code").GetString());
            Assert.Contains("no space left on device", doc.RootElement.GetProperty("error").GetString(), StringComparison.OrdinalIgnoreCase);
        }

        Assert.True(node.IsRunning);
        using (var health = await http.GetAsync($"{node.Http}/health"))
        {
            Assert.True(health.IsSuccessStatusCode, $"/health answered {(int)health.StatusCode}");
        }

        // Further writes are refused (not timed out), and every acknowledged write reads back both ways.
        for (var i = 0; i < 3; i++)
        {
            using var refused = await PutAsync(http, node, $"refused/{i}");
            Assert.Equal(507, (int)refused.StatusCode);
        }

        await AssertAllReadableAsync(http, node, acked, "serializable");

        // A linearizable read on the full leader does not hang: it answers, or fails with 503 unavailable
        // once the operation timeout (5 s) passes — DotNext's read barrier waits for a replication round
        // that the un-writable entries hold up. (The HTTP client's own timeout, 30 s, would fail the test.)
        using (var request = new HttpRequestMessage(HttpMethod.Get, $"{node.Http}/kv/{acked[0]}?consistency=linearizable"))
        {
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/octet-stream"));
            using var read = await http.SendAsync(request);
            var body = await read.Content.ReadAsStringAsync();
            _output.WriteLine($"linearizable read on the full leader: {(int)read.StatusCode} {(read.StatusCode == HttpStatusCode.OK ? "(value)" : body)}");
            Assert.True(read.StatusCode is HttpStatusCode.OK or HttpStatusCode.ServiceUnavailable, $"linearizable read on a full leader: {(int)read.StatusCode} {body}");
            if (read.StatusCode == HttpStatusCode.ServiceUnavailable)
            {
                using var doc = JsonDocument.Parse(body);
                Assert.Equal("unavailable", doc.RootElement.GetProperty("code").GetString());
            }
        }

        // More space: writes resume in the same process.
        Run("mount", $"-o remount,size=256m {_mount}");
        await WaitHealthyWriteAsync(http, node, "after-remount");
        acked.Add("after-remount");
        Assert.True(node.IsRunning);
        await AssertAllReadableAsync(http, node, acked, "linearizable");

        // A restart recovers every acknowledged write.
        await node.TerminateAsync(TimeSpan.FromSeconds(30));
        node.Start();
        await WaitHealthyWriteAsync(http, node, "after-restart");
        await AssertAllReadableAsync(http, node, acked, "linearizable");
    }

    public void Dispose()
    {
        if (_mounted)
        {
            // The node process is gone by now (its using ran first); lazily detach if anything lingers.
            Run("umount", $"-l {_mount}");
        }

        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static async Task<HttpResponseMessage> PutAsync(HttpClient http, ServerProcess node, string key)
    {
        var value = new byte[ValueBytes];
        Array.Fill(value, (byte)('a' + (key.Length % 26)));
        Encoding.ASCII.GetBytes(key).CopyTo(value, 0);
        var content = new ByteArrayContent(value);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        return await http.PutAsync($"{node.Http}/kv/{key}", content);
    }

    private static async Task AssertAllReadableAsync(HttpClient http, ServerProcess node, List<string> keys, string consistency)
    {
        foreach (var key in keys)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"{node.Http}/kv/{key}?consistency={consistency}");
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/octet-stream"));
            using var response = await http.SendAsync(request);
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{consistency} read of acknowledged {key}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}\n{Tail(node.Log())}");
            var body = await response.Content.ReadAsByteArrayAsync();
            Assert.Equal(ValueBytes, body.Length);
            Assert.Equal(key, Encoding.ASCII.GetString(body, 0, key.Length));
        }
    }

    private async Task WaitHealthyWriteAsync(HttpClient http, ServerProcess node, string key)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            try
            {
                using var response = await PutAsync(http, node, key);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }

            Assert.True(node.IsRunning, "the node exited:\n" + node.Log());
            Assert.True(DateTime.UtcNow < deadline, $"no successful write of {key} within the deadline");
            await Task.Delay(Poll.Interval);
        }
    }

    private static string Tail(string log) => log.Length > 6000 ? log[^6000..] : log;

    private void Run(string file, string args)
    {
        using var p = Process.Start(new ProcessStartInfo(file, args) { RedirectStandardError = true, UseShellExecute = false })!;
        p.WaitForExit();
        _output.WriteLine($"{file} {args}: exit {p.ExitCode} {p.StandardError.ReadToEnd()}");
    }
}
