namespace RaftKv.Chaos.Harness;

/// <summary>
/// The faults the schedule draws from. The first eight are the classic set (the short profile's);
/// the rest are the network faults of the long profile. Names are what <c>--faults</c> accepts.
/// </summary>
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

    /// <summary>Majority/minority split (minority = (n-1)/2 nodes: 1 of 3, 2 of 5), workers pinned so both sides have clients.</summary>
    PartitionMinority,

    /// <summary>Like <see cref="PartitionMinority"/> but the minority holds the current leader.</summary>
    PartitionLeaderMinority,

    /// <summary>One-way: packets leader → followers dropped, followers → leader flow.</summary>
    OneWayFromLeader,

    /// <summary>One-way: packets followers → leader dropped, leader → followers flow.</summary>
    OneWayToLeader,

    /// <summary>A node's link (all its traffic, clients included) cut and healed repeatedly at a seeded period.</summary>
    FlappingLink,

    /// <summary>Client traffic (from the harness's address) to the leader's gRPC and HTTP ports dropped; peers still reach it.</summary>
    ClientIsolateLeader,

    /// <summary>A planned leadership transfer (etcd MoveLeader, <c>POST /admin/move-leader</c>) to a seeded member under load.</summary>
    MoveLeader,

    /// <summary>A minority of members ((n-1)/2) lose their disks and are replaced under load: killed, removed
    /// from the membership, wiped, started empty and added back one at a time (docs/operations.md).</summary>
    ReplaceMembers,

    /// <summary>Membership changes through learners under load: the cluster grows by two (each new node added as a
    /// learner, caught up, promoted; 3 → 5), two members are removed (5 → 3), and one member whose disk was wiped is
    /// replaced (removed, wiped, re-added as a learner, promoted). Needs two spare node slots, so it is not in
    /// <see cref="Fault.All"/>: <c>--faults LearnerMembership</c> or <c>--profile membership</c>.</summary>
    LearnerMembership,
}

/// <summary>A scheduled fault: what, which node (1-based; 0 = chosen at run time), for how long;
/// <see cref="Period"/> is the cut+heal period of <see cref="FaultKind.FlappingLink"/>.</summary>
public sealed record Fault(FaultKind Kind, int Node, TimeSpan Duration)
{
    /// <summary>The short profile's kinds (its seeds' schedules are unchanged by later additions).</summary>
    public static readonly IReadOnlyList<FaultKind> Classic =
    [
        FaultKind.KillOne, FaultKind.KillLeader, FaultKind.KillMajority, FaultKind.PauseOne,
        FaultKind.IsolateOne, FaultKind.IsolateLeader, FaultKind.PacketLoss, FaultKind.ClockJumpRestart,
    ];

    /// <summary>Every kind of the long profiles: all but <see cref="FaultKind.LearnerMembership"/> (which needs spare
    /// slots; left out so the long profiles' seeds keep their schedules).</summary>
    public static IReadOnlyList<FaultKind> All => Enum.GetValues<FaultKind>().Where(k => k != FaultKind.LearnerMembership).ToList();

    /// <summary>The membership profile's kinds: learner membership cycles between process and network faults.</summary>
    public static readonly IReadOnlyList<FaultKind> Membership =
    [
        FaultKind.LearnerMembership, FaultKind.KillOne, FaultKind.KillLeader, FaultKind.PauseOne, FaultKind.IsolateOne, FaultKind.MoveLeader,
    ];

    public TimeSpan Period { get; init; }

    /// <summary>True for faults during which workers are pinned to nodes (worker w → node w mod n), so
    /// that both sides of a cut have clients.</summary>
    public bool PinsWorkers => Kind is FaultKind.PartitionMinority or FaultKind.PartitionLeaderMinority or FaultKind.ClientIsolateLeader;

    /// <summary>A seeded schedule drawn from <paramref name="kinds"/> that fills <paramref name="total"/>.</summary>
    public static List<Fault> Schedule(int seed, int nodes, TimeSpan total, IReadOnlyList<FaultKind> kinds)
    {
        var rng = new Random(seed);
        var list = new List<Fault>();
        var used = TimeSpan.Zero;
        while (used < total)
        {
            var f = new Fault(kinds[rng.Next(kinds.Count)], rng.Next(1, nodes + 1), TimeSpan.FromMilliseconds(rng.Next(1500, 4000)));
            if (f.Kind == FaultKind.FlappingLink)
            {
                f = f with { Period = TimeSpan.FromMilliseconds(rng.Next(200, 1000)) };
            }

            list.Add(f);
            used += f.Duration + TimeSpan.FromSeconds(2);
        }

        return list;
    }

    /// <summary>Parses <c>--faults</c>: comma-separated kind names, or <c>classic</c> / <c>all</c>.</summary>
    public static IReadOnlyList<FaultKind> ParseKinds(string text) => text switch
    {
        "classic" => Classic,
        "all" => All,
        "membership" => Membership,
        _ => text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(k => Enum.Parse<FaultKind>(k, ignoreCase: true)).ToList(),
    };
}
