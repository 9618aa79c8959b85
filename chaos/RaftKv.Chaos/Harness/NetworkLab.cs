using System.Globalization;

namespace RaftKv.Chaos.Harness;

/// <summary>
/// One network namespace per node, joined by veth pairs to a bridge in the root namespace, so each
/// node has its own address and can be cut off with iptables inside its namespace. Names carry a
/// per-run id so leftovers of a crashed run never collide; <see cref="Dispose"/> removes everything.
/// </summary>
public sealed class NetworkLab : IDisposable
{
    private readonly string _id;
    private readonly int _size;
    private readonly string _subnet;
    private bool _disposed;

    public NetworkLab(int size, int seed)
    {
        _size = size;
        _id = (seed & 0xFFFF).ToString("x4", CultureInfo.InvariantCulture) + Random.Shared.Next(16).ToString("x", CultureInfo.InvariantCulture);
        _subnet = $"10.{77 + (seed & 0x7F)}.{(seed >> 7) & 0xFF}";
        Bridge = $"rkb{_id}";
        try
        {
            Shell.Run("ip", "link", "add", Bridge, "type", "bridge");
            Shell.Run("ip", "addr", "add", $"{_subnet}.254/24", "dev", Bridge);
            Shell.Run("ip", "link", "set", Bridge, "up");
            for (var i = 1; i <= size; i++)
            {
                var ns = Namespace(i);
                Shell.Run("ip", "netns", "add", ns);
                Shell.Run("ip", "link", "add", $"rkh{_id}{i}", "type", "veth", "peer", "name", $"rkn{_id}{i}");
                Shell.Run("ip", "link", "set", $"rkn{_id}{i}", "netns", ns);
                Shell.Run("ip", "link", "set", $"rkh{_id}{i}", "master", Bridge, "up");
                Shell.Run("ip", "netns", "exec", ns, "ip", "addr", "add", $"{Address(i)}/24", "dev", $"rkn{_id}{i}");
                Shell.Run("ip", "netns", "exec", ns, "ip", "link", "set", $"rkn{_id}{i}", "up");
                Shell.Run("ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up");
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public string Bridge { get; }

    public string Namespace(int node) => $"rkv{_id}n{node}";

    public string Address(int node) => $"{_subnet}.{node}";

    /// <summary>Cuts Raft traffic (both directions) of a node; clients can still reach it.</summary>
    public void IsolateRaft(int node, int raftPort)
    {
        var ns = Namespace(node);
        var port = raftPort.ToString(CultureInfo.InvariantCulture);
        Shell.Run("ip", "netns", "exec", ns, "iptables", "-A", "INPUT", "-p", "tcp", "--dport", port, "-j", "DROP");
        Shell.Run("ip", "netns", "exec", ns, "iptables", "-A", "INPUT", "-p", "tcp", "--sport", port, "-j", "DROP");
    }

    /// <summary>Drops a random fraction of the node's incoming packets.</summary>
    public void Lossy(int node, double probability)
        => Shell.Run("ip", "netns", "exec", Namespace(node), "iptables", "-A", "INPUT", "-m", "statistic", "--mode", "random", "--probability", probability.ToString("0.00", CultureInfo.InvariantCulture), "-j", "DROP");

    /// <summary>The address the harness's clients come from (the bridge, in the root namespace). Peers
    /// (Raft and leader forwarding) come from their own <see cref="Address"/>, so client traffic can be
    /// told apart by source even though clients and peers dial the same node address.</summary>
    public string ClientAddress => $"{_subnet}.254";

    /// <summary>Drops every packet <paramref name="node"/> receives from <paramref name="sources"/> (by source address).</summary>
    public void DropFrom(int node, IEnumerable<int> sources)
    {
        foreach (var s in sources)
        {
            Iptables(node, "-A", "INPUT", "-s", Address(s), "-j", "DROP");
        }
    }

    /// <summary>Drops every packet <paramref name="node"/> sends to <paramref name="targets"/>.</summary>
    public void DropTo(int node, IEnumerable<int> targets)
    {
        foreach (var t in targets)
        {
            Iptables(node, "-A", "OUTPUT", "-d", Address(t), "-j", "DROP");
        }
    }

    /// <summary>Full two-way cut between two groups of nodes (each side drops what the other sends); clients reach both.</summary>
    public void Partition(IReadOnlyCollection<int> side, IReadOnlyCollection<int> other)
    {
        foreach (var a in side)
        {
            DropFrom(a, other);
        }

        foreach (var b in other)
        {
            DropFrom(b, side);
        }
    }

    /// <summary>Cuts the node's link: everything but loopback dropped, both ways, clients included.</summary>
    public void CutLink(int node)
    {
        Iptables(node, "-A", "INPUT", "!", "-i", "lo", "-j", "DROP");
        Iptables(node, "-A", "OUTPUT", "!", "-o", "lo", "-j", "DROP");
    }

    /// <summary>Drops client packets (source <see cref="ClientAddress"/>) to the given TCP ports; peers are untouched.</summary>
    public void DropClients(int node, params int[] ports)
        => Iptables(node, "-A", "INPUT", "-s", ClientAddress, "-p", "tcp", "-m", "multiport", "--dports", string.Join(',', ports.Select(p => p.ToString(CultureInfo.InvariantCulture))), "-j", "DROP");

    /// <summary>Removes every rule the harness added in the node's namespace (INPUT and OUTPUT).</summary>
    public void Heal(int node)
    {
        Shell.TryRun("ip", "netns", "exec", Namespace(node), "iptables", "-F", "INPUT");
        Shell.TryRun("ip", "netns", "exec", Namespace(node), "iptables", "-F", "OUTPUT");
    }

    public void HealAll()
    {
        for (var i = 1; i <= _size; i++)
        {
            Heal(i);
        }
    }

    private void Iptables(int node, params string[] rule) => Shell.Run("ip", ["netns", "exec", Namespace(node), "iptables", .. rule]);

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        for (var i = 1; i <= _size; i++)
        {
            Shell.TryRun("ip", "netns", "del", Namespace(i));
            Shell.TryRun("ip", "link", "del", $"rkh{_id}{i}");
        }

        Shell.TryRun("ip", "link", "del", Bridge);
    }

    /// <summary>Removes namespaces and bridges left by earlier runs that died without cleaning up.</summary>
    public static void CleanStale()
    {
        foreach (var line in Shell.Run("ip", "netns", "list").Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var name = line.Split(' ')[0];
            if (name.StartsWith("rkv", StringComparison.Ordinal))
            {
                Shell.TryRun("ip", "netns", "del", name);
            }
        }

        foreach (var line in Shell.Run("ip", "-o", "link", "show").Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var name = line.Split(':', 3)[1].Trim().Split('@')[0];
            if (name.StartsWith("rkb", StringComparison.Ordinal) || name.StartsWith("rkh", StringComparison.Ordinal))
            {
                Shell.TryRun("ip", "link", "del", name);
            }
        }
    }
}
