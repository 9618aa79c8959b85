using RaftKv.Chaos.History;

namespace RaftKv.Chaos.Checker;

/// <summary>The verdict for a history: linearizable, or the key and a minimal failing sub-history.</summary>
public sealed record CheckResult(bool Linearizable, string? Key, IReadOnlyList<Operation> Counterexample, string Detail)
{
    public static CheckResult Ok(int keys, int ops) => new(true, null, [], $"{ops} operations on {keys} keys are linearizable");
}
