using System.Diagnostics;

namespace RaftKv.EndToEnd.Tests.FaultInjection;

/// <summary>
/// Drops every TCP packet sent to one loopback port (an iptables INPUT rule, root only), e.g. a member's Raft port:
/// the leader's appends and heartbeats stop reaching it, while the member's own calls to the others still work.
/// Disposing deletes the rule. Without iptables or root the constructor throws with the reason.
/// </summary>
internal sealed class LoopbackPortBlock : IDisposable
{
    private readonly string[] _rule;
    private bool _removed;

    private LoopbackPortBlock(int port) => _rule = ["INPUT", "-p", "tcp", "-d", "127.0.0.1", "--dport", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-j", "DROP"];

    public static LoopbackPortBlock Start(int port)
    {
        var block = new LoopbackPortBlock(port);
        Iptables(["-I", .. block._rule]);
        return block;
    }

    /// <summary>Deletes the rule (idempotent); packets flow again (TCP retransmits what was dropped).</summary>
    public void Lift()
    {
        if (!_removed)
        {
            _removed = true;
            Iptables(["-D", .. _rule]);
        }
    }

    public void Dispose() => Lift();

    private static void Iptables(string[] args)
    {
        var psi = new ProcessStartInfo("iptables") { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using var p = Process.Start(psi) ?? throw new InvalidOperationException("iptables could not be started (root and the iptables package are needed)");
        var err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0)
        {
            throw new InvalidOperationException($"iptables {string.Join(' ', args)} failed ({p.ExitCode}): {err} (root and the iptables package are needed)");
        }
    }
}
