namespace RaftKv.Chaos.Harness;

/// <summary>The faults the schedule draws from.</summary>
public enum FaultKind
{
    KillOne,
    KillLeader,
    KillMajority,
    PauseOne,
    IsolateOne,
    IsolateLeader,
    PacketLoss,
    ClockJumpRestart,
}

/// <summary>A scheduled fault: what, which node (1-based; 0 = chosen at run time), for how long.</summary>
public sealed record Fault(FaultKind Kind, int Node, TimeSpan Duration)
{
    /// <summary>A seeded schedule that fills <paramref name="total"/>.</summary>
    public static List<Fault> Schedule(int seed, int nodes, TimeSpan total)
    {
        var rng = new Random(seed);
        var kinds = Enum.GetValues<FaultKind>();
        var list = new List<Fault>();
        var used = TimeSpan.Zero;
        while (used < total)
        {
            var f = new Fault(kinds[rng.Next(kinds.Length)], rng.Next(1, nodes + 1), TimeSpan.FromMilliseconds(rng.Next(1500, 4000)));
            list.Add(f);
            used += f.Duration + TimeSpan.FromSeconds(2);
        }

        return list;
    }
}
