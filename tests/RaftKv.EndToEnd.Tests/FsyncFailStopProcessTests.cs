using System.Net;
using System.Net.Http.Headers;
using System.Text;
using RaftKv.EndToEnd.Tests.FaultInjection;
using Xunit.Abstractions;

namespace RaftKv.EndToEnd.Tests;

/// <summary>
/// A real raftkv process whose fsync fails (EIO from the kernel's side, injected below the process with
/// an LD_PRELOAD shim, <see cref="FsyncFaultShim"/>) fail-stops: it exits with code 74 at once, its log
/// names the operation and the file, and nothing after the failure is acknowledged; restarted on the
/// same data directory it serves every write it acknowledged before. Needs a C compiler; skipped otherwise.
/// </summary>
public sealed class FsyncFailStopProcessTests(ITestOutputHelper output) : IDisposable
{
    private const int FatalStorageExitCode = 74; // ExitOnFatalStorageError.ExitCode, docs/operations.md
    private readonly string _root = Path.Combine(Path.GetTempPath(), "raftkv-fsyncfail-" + Guid.NewGuid().ToString("N"));

    [Theory]
    [InlineData("/log/", "put")] // a Raft log segment, fsynced for a write
    [InlineData(".sst", "flush")] // an SSTable, fsynced by POST /admin/flush
    public async Task FailedFsyncExitsAndTheRestartedNodeHasEveryAcknowledgedWrite(string match, string trigger)
    {
        var (library, why) = FsyncFaultShim.Build(Path.Combine(_root, "shim"));
        if (library is null)
        {
            output.WriteLine("skipped: " + why);
            return;
        }

        var dataDir = Path.Combine(_root, "n1");
        var flag = Path.Combine(_root, "fail-fsync-now");
        using var node = new ServerProcess(1, dataDir, ServerProcess.FreePort(), ServerProcess.FreePort(), ServerProcess.FreePort(), string.Empty, FsyncFaultShim.Environment(library, flag, match));
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        node.Start();
        await WaitWritableAsync(http, node, "warmup");

        var acked = new Dictionary<string, string> { ["warmup"] = "warmup" };
        for (var i = 0; i < 50; i++)
        {
            var key = $"acked/{i:D3}";
            using var put = await PutAsync(http, node, key, key);
            Assert.Equal(HttpStatusCode.OK, put.StatusCode);
            acked[key] = key;
        }

        // From now on every fsync of a matching file fails with EIO.
        await File.WriteAllTextAsync(flag, "1");
        var triggerAcked = false;
        try
        {
            using var response = trigger == "put"
                ? await PutAsync(http, node, "trigger", "trigger")
                : await http.PostAsync($"{node.Http}/admin/flush", null);
            triggerAcked = response.IsSuccessStatusCode;
            output.WriteLine($"{trigger} after the fault: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }
        catch (HttpRequestException e)
        {
            output.WriteLine($"{trigger} after the fault: {e.Message}"); // the process exited mid-request
        }

        await Eventually.TrueAsync(() => !node.IsRunning, TimeSpan.FromSeconds(60), "the node exits after the failed fsync");
        Assert.Equal(FatalStorageExitCode, node.ExitCode);
        Assert.False(triggerAcked, $"the {trigger} whose fsync failed was acknowledged");
        await Eventually.TrueAsync(() => node.Log().Contains("raftkv: fatal storage error: fsync of '", StringComparison.Ordinal), TimeSpan.FromSeconds(10), "the reason is logged");
        var line = node.Log().Split('\n').First(l => l.Contains("raftkv: fatal storage error", StringComparison.Ordinal));
        output.WriteLine(line);
        Assert.Contains(Path.GetFullPath(dataDir), line, StringComparison.Ordinal);
        Assert.Contains(match, line, StringComparison.Ordinal);
        Assert.Contains("errno 5", line, StringComparison.Ordinal);

        // The disk is healthy again: restarted, the node has every acknowledged write.
        File.Delete(flag);
        node.Start();
        await WaitWritableAsync(http, node, "after-restart");
        foreach (var (key, value) in acked)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"{node.Http}/kv/{key}");
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/octet-stream"));
            using var response = await http.SendAsync(request);
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"acknowledged {key} after the restart: {(int)response.StatusCode}\n{Tail(node.Log())}");
            Assert.Equal(value, await response.Content.ReadAsStringAsync());
        }

        Assert.Equal(0, await node.TerminateAsync(TimeSpan.FromSeconds(30)));
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static async Task<HttpResponseMessage> PutAsync(HttpClient http, ServerProcess node, string key, string value)
    {
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes(value));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        return await http.PutAsync($"{node.Http}/kv/{key}", content);
    }

    private static async Task WaitWritableAsync(HttpClient http, ServerProcess node, string key)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            try
            {
                using var response = await PutAsync(http, node, key, key);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }

            Assert.True(node.IsRunning, "the node exited:\n" + Tail(node.Log()));
            Assert.True(DateTime.UtcNow < deadline, $"no successful write of {key} within the deadline\n{Tail(node.Log())}");
            await Task.Delay(Poll.Interval);
        }
    }

    private static string Tail(string log) => log.Length > 6000 ? log[^6000..] : log;
}
