using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace RaftKv.Replication;

/// <summary>host:port parsing and resolution for Raft addresses (DotNext's TCP transport needs IP endpoints).
/// Errors: <see cref="FormatException"/> for text that is not host:port; <see cref="SocketException"/> for a host
/// name that did not resolve within the timeout.</summary>
public static class EndPoints
{
    private static readonly TimeSpan RetryDelay = TimeSpan.FromMilliseconds(500);

    /// <summary>Blocking form, for start-up only (the node's own and its bootstrap addresses): never call it on a
    /// request path, where <see cref="ResolveAsync"/> keeps the thread free while a name does not resolve yet.</summary>
    public static IPEndPoint Resolve(string hostPort, TimeSpan timeout)
    {
        var (host, port, literal) = Parse(hostPort);
        if (literal is not null)
        {
            return literal;
        }

        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            if (TryPick(host, port, () => Dns.GetHostAddresses(host), deadline) is { } ep)
            {
                return ep;
            }

            Thread.Sleep(RetryDelay);
        }
    }

    /// <summary>Resolves <paramref name="hostPort"/>, retrying a name that does not resolve yet (docker-compose
    /// service names and k8s pod DNS may take a moment to appear) until <paramref name="timeout"/>.</summary>
    public static async Task<IPEndPoint> ResolveAsync(string hostPort, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var (host, port, literal) = Parse(hostPort);
        if (literal is not null)
        {
            return literal;
        }

        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            IPAddress[]? addresses = null;
            SocketException? error = null;
            try
            {
                addresses = await Dns.GetHostAddressesAsync(host, cancellationToken).ConfigureAwait(false);
            }
            catch (SocketException e)
            {
                error = e;
            }

            if (TryPick(host, port, () => addresses ?? throw error!, deadline) is { } ep)
            {
                return ep;
            }

            await Task.Delay(RetryDelay, cancellationToken).ConfigureAwait(false);
        }
    }

    private static (string Host, int Port, IPEndPoint? Literal) Parse(string hostPort)
    {
        var i = hostPort.LastIndexOf(':');
        if (i <= 0 || !int.TryParse(hostPort.AsSpan(i + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is <= 0 or > 65535)
        {
            throw new FormatException($"'{hostPort}' is not host:port");
        }

        var host = hostPort[..i].Trim('[', ']');
        return (host, port, IPAddress.TryParse(host, out var ip) ? new IPEndPoint(ip, port) : null);
    }

    // One attempt: the first IPv4 address (else any), null to retry, a SocketException once the deadline passed.
    private static IPEndPoint? TryPick(string host, int port, Func<IPAddress[]> lookup, DateTime deadline)
    {
        try
        {
            var addresses = lookup();
            var v4 = addresses.FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork) ?? addresses.FirstOrDefault();
            if (v4 is not null)
            {
                return new IPEndPoint(v4, port);
            }
        }
        catch (SocketException) when (DateTime.UtcNow < deadline)
        {
            return null;
        }

        return DateTime.UtcNow < deadline ? null : throw new SocketException((int)SocketError.HostNotFound, $"cannot resolve Raft peer host '{host}'");
    }
}
