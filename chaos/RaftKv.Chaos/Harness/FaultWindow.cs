namespace RaftKv.Chaos.Harness;

/// <summary>
/// The time a network fault was in force, on the workers' monotonic clock: from after its iptables
/// rules were installed to before they were removed. <see cref="Cut"/> are the nodes on the cut-off
/// side: the minority of a partition, or the leader a <see cref="FaultKind.ClientIsolateLeader"/> hid.
/// <see cref="HeldLeader"/> says the cut side held the leader when the fault began (the other side then has to
/// elect one); <see cref="OthersLeaderSeen"/> is when a node of the other side was first seen answering as leader
/// (<see cref="ElectionProbe"/>), null if none was before the window ended.
/// </summary>
public sealed record FaultWindow(FaultKind Kind, IReadOnlyList<int> Cut, long Start, long End)
{
    public bool HeldLeader { get; init; }

    public long? OthersLeaderSeen { get; init; }

    /// <summary>Sent and answered while the fault was in force.</summary>
    public bool Covers(Attempt a) => a.Invoke >= Start && a.Return <= End;

    /// <summary>Sent while the fault was in force (answered at any time).</summary>
    public bool Sent(Attempt a) => a.Invoke >= Start && a.Invoke <= End;
}
