using System.Net;
using System.Net.Sockets;

namespace RaftKv.TestSupport;

/// <summary>
/// Ephemeral loopback ports for test nodes. The kernel may hand the same ephemeral port to two listeners
/// opened one after the other (each is closed before the next is asked for), and a node given one port
/// for two of its listeners refuses to start; so no port is handed out twice by one test process.
/// </summary>
public static class FreePorts
{
    private static readonly HashSet<int> Given = []; // guarded by itself

    /// <summary>A loopback port free right now and never returned before by this process.</summary>
    public static int Next()
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
}
