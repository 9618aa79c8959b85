using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace RaftKv.TestSupport;

/// <summary>
/// Loopback ports for test nodes, taken from <em>below</em> the kernel's ephemeral range
/// (<c>/proc/sys/net/ipv4/ip_local_port_range</c>, 32768–60999 by default). A test that stops a node and starts it
/// again on the same port needs that port to stay free in between; a port from the ephemeral range does not: any
/// outgoing connection of any process (another node dialling a peer, a client) may be given it as its source port,
/// and the restarted node fails with "Address already in use" (CI, 2026-12-07,
/// <c>ClusterTests.LaggingFollowerCatchesUpBySnapshotAfterLogCompaction</c>). The kernel never picks a source port
/// outside that range. Each port is checked free by binding it, and no port is handed out twice by one process (a
/// node given one port for two of its listeners refuses to start). Test processes running at the same time walk the
/// range from different random starting points, so two of them rarely pick the same port before either binds it.
/// </summary>
public static class FreePorts
{
    private const int LowestPort = 10000;
    private static readonly HashSet<int> Given = []; // guarded by itself
    private static readonly int RangeEnd = EphemeralLow(); // exclusive
    private static int _next = LowestPort + Random.Shared.Next(Math.Max(1, RangeEnd - LowestPort)); // guarded by Given

    /// <summary>A loopback port free right now, outside the ephemeral range, and never returned before by this process.</summary>
    public static int Next()
    {
        if (RangeEnd - LowestPort < 1000)
        {
            return NextEphemeral(); // a machine whose ephemeral range starts low: no room below it
        }

        for (var tried = 0; tried < RangeEnd - LowestPort; tried++)
        {
            int port;
            lock (Given)
            {
                port = _next;
                _next = _next + 1 >= RangeEnd ? LowestPort : _next + 1;
                if (!Given.Add(port))
                {
                    continue;
                }
            }

            if (IsFree(port))
            {
                return port;
            }
        }

        throw new InvalidOperationException($"no free loopback port in {LowestPort}-{RangeEnd - 1}");
    }

    private static bool IsFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static int NextEphemeral()
    {
        while (true)
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            var port = ((IPEndPoint)listener.LocalEndpoint).Port;
            lock (Given)
            {
                if (Given.Add(port))
                {
                    return port;
                }
            }
        }
    }

    /// <summary>The first port of the kernel's ephemeral range (Linux; 32768 where it cannot be read).</summary>
    private static int EphemeralLow()
    {
        try
        {
            var fields = File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range").Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            return int.Parse(fields[0], CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return 32768;
        }
    }
}
