using RaftKv.Chaos.Harness;
using Xunit.Abstractions;

namespace RaftKv.Chaos.Tests;

/// <summary>
/// Membership changes through learners as a chaos fault (issue #17): on three real nodes under the linearizability
/// checker's workload, one <see cref="FaultKind.LearnerMembership"/> cycle — grow 3 → 5 (each new node added as a
/// learner, caught up, promoted), remove two members, replace a member whose disk was wiped (removed, wiped,
/// re-added as a learner, promoted). Every acknowledged write must survive, the history must be linearizable, every
/// replica converge, every watcher (removed members' up to where they left) see every event once, and no probe write
/// may fail after client retries while a learner joins.
/// </summary>
[Collection("chaos")]
public sealed class LearnerMembershipProfileTests(ITestOutputHelper output)
{
    [Fact]
    public async Task GrowingWithLearnersShrinkingAndReplacingAWipedMemberKeepsEveryPromise()
    {
        const int seed = 2;
        output.WriteLine($"seed = {seed} (rerun: dotnet run --project chaos/RaftKv.Chaos -- --faults LearnerMembership --fault-seconds 1 --first-seed {seed} --seeds 1)");
        var writer = new StringWriter();
        var options = new ChaosOptions
        {
            Seed = seed,
            Nodes = 3,
            Faults = TimeSpan.FromSeconds(1), // one cycle
            FaultKinds = [FaultKind.LearnerMembership],
            ServerDll = ChaosReport.DefaultServerDll(),
            WorkDir = Path.Combine(Path.GetTempPath(), "raftkv-chaos-tests"),
        };
        var result = await new ChaosRunner(options, writer).RunAsync();
        output.WriteLine(writer.ToString());
        var cycle = Assert.Single(result.FaultsInjected, f => f.StartsWith("learner membership", StringComparison.Ordinal));
        Assert.DoesNotContain("FAILED", cycle, StringComparison.Ordinal);
        Assert.Contains("3 → 5 → 3 members", cycle, StringComparison.Ordinal);
        Assert.True(result.Linearizability.Linearizable, result.Linearizability.Detail + "\n" + string.Join("\n", result.Linearizability.Counterexample));
        Assert.Empty(result.Problems);
        Assert.True(result.ReplicasIdentical);
    }
}
