using RaftKv.Chaos.Harness;
using Xunit.Abstractions;

namespace RaftKv.Chaos.Tests;

/// <summary>
/// Membership changes as a chaos fault (issue #17): on five real nodes under the linearizability
/// checker's workload, two members lose their disks and are replaced — killed, removed (5 → 3), wiped,
/// started empty and added back (3 → 5) through the HTTP member routes. Every acknowledged write must
/// survive, every replica must converge, every watcher must see every event once.
/// </summary>
[Collection("chaos")]
public sealed class MembershipProfileTests(ITestOutputHelper output)
{
    [Fact]
    public async Task ReplacingTwoOfFiveMembersUnderLoadKeepsEveryPromise()
    {
        const int seed = 3;
        output.WriteLine($"seed = {seed} (rerun: dotnet run --project chaos/RaftKv.Chaos -- --profile long5 --faults ReplaceMembers --first-seed {seed} --seeds 1)");
        var writer = new StringWriter();
        var options = new ChaosOptions
        {
            Seed = seed,
            Nodes = 5,
            Faults = TimeSpan.FromSeconds(4),
            FaultKinds = [FaultKind.ReplaceMembers],
            ServerDll = ChaosReport.DefaultServerDll(),
            WorkDir = Path.Combine(Path.GetTempPath(), "raftkv-chaos-tests"),
        };
        var result = await new ChaosRunner(options, writer).RunAsync();
        output.WriteLine(writer.ToString());
        Assert.Contains(result.FaultsInjected, f => f.StartsWith("replace members", StringComparison.Ordinal) && !f.Contains("FAILED", StringComparison.Ordinal));
        Assert.True(result.Linearizability.Linearizable, result.Linearizability.Detail + "\n" + string.Join("\n", result.Linearizability.Counterexample));
        Assert.Empty(result.Problems);
        Assert.True(result.ReplicasIdentical);
    }
}
