using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using RaftKv.EndToEnd.Tests.Etcd;
using Xunit.Abstractions;

namespace RaftKv.EndToEnd.Tests;

/// <summary>
/// A node whose data directory is on a real 64 MiB tmpfs, filled by puts until the disk is (nearly) full:
/// it does not crash; it raises the NOSPACE alarm through Raft (etcdctl alarm list shows it), refuses writes
/// with 507 no_space and etcd's "database space exceeded", keeps serving reads and deletes; after the operator
/// deletes keys, compacts, gives the volume room, defragments and disarms, writes work again, and every
/// acknowledged write that was not deleted is readable after a restart. Needs root (mount); skipped otherwise.
/// </summary>
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
    public async Task FullDiskRaisesNoSpaceKeepsReadsAndRecoversAfterDeleteCompactGrowDefragDisarm()
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
        var acked = new List<string> { "warmup" };

        // Fill the disk until the node refuses a write for lack of space.
        string? noSpaceBody = null;
        for (var i = 0; i < 2000 && noSpaceBody is null; i++)
        {
            var key = $"fill/{i:D4}";
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
        }

        // The NOSPACE alarm is raised through Raft (the log writes it into its released reserve).
        await WaitAsync(async () => (await Etcdctl.RunAsync(node.Grpc, "alarm", "list")).Out.Contains("alarm:NOSPACE", StringComparison.Ordinal), node, "etcdctl alarm list shows NOSPACE");
        Assert.True(node.IsRunning);
        Assert.Contains(NoSpace, (await Etcdctl.RunAsync(node.Grpc, "put", "refused", "x")).Err, StringComparison.Ordinal);
        for (var i = 0; i < 3; i++)
        {
            using var refused = await PutAsync(http, node, $"refused/{i}");
            Assert.Equal(507, (int)refused.StatusCode);
        }

        // Reads keep working, both ways.
        await AssertAllReadableAsync(http, node, acked, "serializable");
        await AssertAllReadableAsync(http, node, acked, "linearizable");

        // The operator's recovery: delete half the data and compact the history (both work on the full disk),
        // give the volume room (defragmenting needs space to write the compacted tables: see
        // docs/operations.md, "Space quota"), defragment, disarm.
        var deleted = acked.Where((_, i) => i % 2 == 1).ToList();
        foreach (var key in deleted)
        {
            (await Etcdctl.RunAsync(node.Grpc, "del", key)).Ok();
        }

        acked = acked.Except(deleted).ToList();
        var revision = EtcdJson.Revision((await Etcdctl.RunAsync(node.Grpc, "get", "warmup", "-w", "json")).Ok().Json);
        (await Etcdctl.RunAsync(node.Grpc, "compact", revision.ToString(System.Globalization.CultureInfo.InvariantCulture))).Ok();
        Run("mount", $"-o remount,size=128m {_mount}");
        await WaitAsync(async () => (await Etcdctl.RunAsync(node.Grpc, "defrag")).Code == 0, node, "defragment succeeds");
        await WaitAsync(
            async () =>
            {
                (await Etcdctl.RunAsync(node.Grpc, "alarm", "disarm")).Ok();
                using var put = await PutAsync(http, node, "after-recovery");
                return put.StatusCode == HttpStatusCode.OK;
            },
            node,
            "a write succeeds after delete, compact, defrag and disarm");
        acked.Add("after-recovery");
        Assert.DoesNotContain("NOSPACE", (await Etcdctl.RunAsync(node.Grpc, "alarm", "list")).Ok().Out, StringComparison.Ordinal);
        await AssertAllReadableAsync(http, node, acked, "linearizable");

        // A restart recovers every acknowledged write that was not deleted, and deleted ones stay deleted.
        await node.TerminateAsync(TimeSpan.FromSeconds(30));
        node.Start();
        await WaitHealthyWriteAsync(http, node, "after-restart");
        await AssertAllReadableAsync(http, node, acked, "linearizable");
        using var gone = await http.GetAsync($"{node.Http}/kv/{deleted[0]}");
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
    }

    private const string NoSpace = "etcdserver: mvcc: database space exceeded";

    private static async Task WaitAsync(Func<Task<bool>> condition, ServerProcess node, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        while (!await condition())
        {
            Assert.True(node.IsRunning, "the node exited:\n" + Tail(node.Log()));
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting until {what}\n{Tail(node.Log())}");
            await Task.Delay(Poll.Interval);
        }
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
