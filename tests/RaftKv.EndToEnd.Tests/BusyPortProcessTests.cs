using System.Net;
using System.Net.Sockets;

namespace RaftKv.EndToEnd.Tests;

/// <summary>
/// A node whose port is taken (another process, or the previous run still shutting down) exits with code 1 and a
/// one-line reason naming the port, instead of dying of an unhandled exception (SIGABRT, exit 134, a core dump).
/// </summary>
[Collection("processes")]
public sealed class BusyPortProcessTests
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
}
