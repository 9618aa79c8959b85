using System.Net;
using System.Net.Sockets;

namespace RaftKv.EndToEnd.Tests;

/// <summary>
/// A node that must not start exits with code 1 and a one-line reason: its port is taken (another process, or the
/// previous run still shutting down) — instead of dying of an unhandled exception (SIGABRT, exit 134, a core dump) —
/// or its data directory is in use by a running node — instead of opening it too, where each would delete the other's
/// new tables as garbage (seen once by hand: "table listed in the manifest is missing" on the next start).
/// </summary>
public sealed class StartupRefusalProcessTests
{
    [Theory]
    [InlineData("raft")]
    [InlineData("http")]
    public async Task ANodeWhosePortIsTakenExitsWithAReason(string which)
    {
        using var dir = new RaftKv.TestSupport.TempDir();
        var node = new ServerProcess(1, Path.Combine(dir.Path, "n1"), ServerProcess.FreePort(), ServerProcess.FreePort(), ServerProcess.FreePort(), string.Empty);
        var port = which == "raft" ? node.RaftPort : node.HttpPort;
        using var taken = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        taken.Bind(new IPEndPoint(IPAddress.Loopback, port));
        taken.Listen();

        var (code, _, err) = await node.RunCommandAsync();
        Assert.True(code == 1, $"exit {code}: {err}");
        Assert.Contains("raftkv: cannot start:", err, StringComparison.Ordinal);
        Assert.Contains(port.ToString(System.Globalization.CultureInfo.InvariantCulture), err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ASecondNodeOnADataDirectoryInUseIsRefusedAndTheFirstKeepsItsData()
    {
        using var dir = new RaftKv.TestSupport.TempDir();
        var data = Path.Combine(dir.Path, "n1");
        using var first = new ServerProcess(1, data, ServerProcess.FreePort(), ServerProcess.FreePort(), ServerProcess.FreePort(), string.Empty);
        first.Start();
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(20) };
        await Eventually.TrueAsync(
            async () =>
            {
                try
                {
                    using var put = await http.PutAsync(first.Http + "/kv/kept", new StringContent("{\"value\":\"v\"}", System.Text.Encoding.UTF8, "application/json"));
                    return put.IsSuccessStatusCode;
                }
                catch (HttpRequestException)
                {
                    return false;
                }
            },
            TimeSpan.FromSeconds(60),
            "the first node takes a write");

        var second = new ServerProcess(1, data, ServerProcess.FreePort(), ServerProcess.FreePort(), ServerProcess.FreePort(), string.Empty);
        var (code, _, err) = await second.RunCommandAsync();
        Assert.True(code == 1, $"exit {code}: {err}");
        Assert.Contains("is in use by another process", err, StringComparison.Ordinal);

        // The first one still serves, and after its own restart its data is whole.
        first.Kill();
        first.Start();
        await Eventually.TrueAsync(
            async () =>
            {
                try
                {
                    using var get = await http.GetAsync(first.Http + "/kv/kept");
                    return get.IsSuccessStatusCode;
                }
                catch (HttpRequestException)
                {
                    return false;
                }
            },
            TimeSpan.FromSeconds(60),
            "the first node restarts with its key");
    }
}
