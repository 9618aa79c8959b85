namespace RaftKv.Chaos.Harness;

/// <summary>One chaos run's parameters.</summary>
public sealed record ChaosOptions
{
    public int Seed { get; init; } = 1;
    public int Nodes { get; init; } = 3;
    public int Workers { get; init; } = 5;
    public int Keys { get; init; } = 10;
    public TimeSpan Healthy { get; init; } = TimeSpan.FromSeconds(5);
    public TimeSpan Faults { get; init; } = TimeSpan.FromSeconds(25);
    public TimeSpan Recovery { get; init; } = TimeSpan.FromSeconds(8);
    public TimeSpan OperationTimeout { get; init; } = TimeSpan.FromSeconds(2);
    public double MinHealthySuccessRate { get; init; } = 0.8;
    public double MinRecoveredSuccessRate { get; init; } = 0.5;

    /// <summary>Self-test: serializable reads from a Raft-isolated node; the checker MUST report a violation.</summary>
    public bool StaleReadSelfTest { get; init; }

    /// <summary>The kinds the fault schedule draws from (<c>--faults</c>); the short profile keeps the classic set.</summary>
    public IReadOnlyList<FaultKind> FaultKinds { get; init; } = Fault.Classic;

    public required string ServerDll { get; init; }
    public required string WorkDir { get; init; }
}
