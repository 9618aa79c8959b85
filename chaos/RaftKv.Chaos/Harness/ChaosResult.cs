using RaftKv.Chaos.Checker;

namespace RaftKv.Chaos.Harness;

/// <summary>What one seed's run found.</summary>
public sealed record ChaosResult
{
    public int Seed { get; init; }
    public List<string> FaultsInjected { get; init; } = [];
    public int Operations { get; init; }
    public int Ok { get; init; }
    public int Failed { get; init; }
    public int Unknown { get; init; }
    public double HealthySuccessRate { get; init; }
    public double RecoveredSuccessRate { get; init; }
    public bool ReplicasIdentical { get; init; }
    public required CheckResult Linearizability { get; init; }
    public TimeSpan Duration { get; init; }
    public List<string> Problems { get; init; } = [];

    /// <summary>What clients on either side of partitions and of a client-isolated leader saw (its broken promises are in <see cref="Problems"/>).</summary>
    public SideCheck Sides { get; init; } = new();

    public bool Passed => Linearizability.Linearizable && Problems.Count == 0;
}
