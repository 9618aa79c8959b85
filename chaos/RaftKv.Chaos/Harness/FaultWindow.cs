namespace RaftKv.Chaos.Harness;

/// <summary>
/// The time a network fault was in force, on the workers' monotonic clock: from after its iptables
/// rules were installed to before they were removed. <see cref="Cut"/> are the nodes on the cut-off
/// side: the minority of a partition, or the leader a <see cref="FaultKind.ClientIsolateLeader"/> hid.
/// </summary>
public sealed record FaultWindow(FaultKind Kind, IReadOnlyList<int> Cut, long Start, long End)
{
    /// <summary>Sent and answered while the fault was in force.</summary>
    public bool Covers(Attempt a) => a.Invoke >= Start && a.Return <= End;

    /// <summary>Sent while the fault was in force (answered at any time).</summary>
    public bool Sent(Attempt a) => a.Invoke >= Start && a.Invoke <= End;
}
