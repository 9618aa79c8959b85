using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

// The floor of one Raft-sized request/response between two .NET processes on loopback: a client sends 256 bytes and
// waits for 16 back from a server in another process (async sockets, NoDelay, as DotNext's TCP transport uses them).
// Usage: dotnet run -c Release --project bench/tcp-pingpong -- [ROUND_TRIPS] [ROUNDS]   (defaults 20000 and 4)
// Prints p50/p90 of the round trip per round (the first fifth of each round dropped as warm-up).
if (args is ["server", var portText])
{
    await ServeAsync(int.Parse(portText, CultureInfo.InvariantCulture));
    return;
}

var trips = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 20_000;
var rounds = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 4;
using var probe = new TcpListener(IPAddress.Loopback, 0);
probe.Start();
var port = ((IPEndPoint)probe.LocalEndpoint).Port;
probe.Stop();
var self = Environment.ProcessPath!;
string[] serverArgs = Path.GetFileNameWithoutExtension(self) == "dotnet" // run as `dotnet TcpPingPong.dll`, or by its apphost
    ? [typeof(Program).Assembly.Location, "server", port.ToString(CultureInfo.InvariantCulture)]
    : ["server", port.ToString(CultureInfo.InvariantCulture)];
using var server = Process.Start(new ProcessStartInfo(self, serverArgs))!;
try
{
    using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
    for (var attempt = 0; ; attempt++)
    {
        try
        {
            await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port));
            break;
        }
        catch (SocketException) when (attempt < 100)
        {
            await Task.Delay(100); // the server process is starting
        }
    }

    var request = new byte[256];
    var response = new byte[16];
    var rtt = new double[trips];
    for (var round = 1; round <= rounds; round++)
    {
        for (var i = 0; i < trips; i++)
        {
            var start = Stopwatch.GetTimestamp();
            await socket.SendAsync(request);
            for (var got = 0; got < response.Length;)
            {
                got += await socket.ReceiveAsync(response.AsMemory(got));
            }

            rtt[i] = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
        }

        var kept = rtt[(trips / 5)..];
        Array.Sort(kept);
        Console.WriteLine($"round {round}: {trips} round trips, p50 {kept[kept.Length / 2]:F0} µs, p90 {kept[kept.Length * 9 / 10]:F0} µs");
    }
}
finally
{
    server.Kill();
}

static async Task ServeAsync(int port)
{
    using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
    listener.Bind(new IPEndPoint(IPAddress.Loopback, port));
    listener.Listen();
    using var socket = await listener.AcceptAsync();
    socket.NoDelay = true;
    var buffer = new byte[256];
    while (true)
    {
        for (var got = 0; got < buffer.Length;)
        {
            var n = await socket.ReceiveAsync(buffer.AsMemory(got));
            if (n == 0)
            {
                return;
            }

            got += n;
        }

        await socket.SendAsync(buffer.AsMemory(0, 16));
    }
}
