using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace RaftKv.Replication;

/// <summary>host:port parsing and resolution for Raft addresses (DotNext's TCP transport needs IP endpoints).</summary>
public static class EndPoints
{
    public static IPEndPoint Resolve(string hostPort, TimeSpan timeout)
    {
        var i = hostPort.LastIndexOf(':');
        if (i <= 0 || !int.TryParse(hostPort.AsSpan(i + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is <= 0 or > 65535)
        {
            throw new FormatException($"'{hostPort}' is not host:port");
        }

        var host = hostPort[..i].Trim('[', ']');
        if (IPAddress.TryParse(host, out var ip))
        {
            return new IPEndPoint(ip, port);
        }

        // Names (docker-compose service names, k8s pod DNS) may take a moment to appear.
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                var addresses = Dns.GetHostAddresses(host);
                var v4 = addresses.FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork) ?? addresses.FirstOrDefault();
                if (v4 is not null)
                {
                    return new IPEndPoint(v4, port);
                }
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
            }

            if (DateTime.UtcNow >= deadline)
            {
                throw new InvalidOperationException($"cannot resolve Raft peer host '{host}'");
            }

            Thread.Sleep(500);
        }
    }
}
