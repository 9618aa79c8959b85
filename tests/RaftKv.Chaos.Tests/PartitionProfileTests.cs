using RaftKv.Chaos.Harness;
using Xunit.Abstractions;

namespace RaftKv.Chaos.Tests;

/// <summary>
/// Majority/minority partitions of a real 3-node cluster with workers pinned to nodes, so both sides
/// have clients: the minority side must not acknowledge a write or a linearizable read while it is
/// cut off. It also reports whether the majority committed writes while the leader was cut off (a frozen or
/// unreachable member once kept every candidate from winning: KvNodeOptions.RequestTimeout); that is not asserted,
/// see <see cref="SideCheck.LeaderlessMajorities"/>. Requires root, like <see cref="ChaosProfileTests"/>. Rerun outside the suite:
/// <c>dotnet run --project chaos/RaftKv.Chaos -- --first-seed 5 --seeds 1 --faults PartitionMinority,PartitionLeaderMinority</c>.
/// </summary>
[Collection("chaos")]
public sealed class PartitionProfileTests(ITestOutputHelper output)
{
    [Fact]
    public async Task MinorityWithClientsOnBothSidesRefusesWritesAndLinearizableReads()
    {
        const int seed = 5;
        var options = new ChaosOptions
        {
            Seed = seed,
            Faults = TimeSpan.FromSeconds(12),
            FaultKinds = [FaultKind.PartitionMinority, FaultKind.PartitionLeaderMinority],
            ServerDll = ChaosReport.DefaultServerDll(),
            WorkDir = Path.Combine(Path.GetTempPath(), "raftkv-chaos-tests"),
        };
        var writer = new StringWriter();
        output.WriteLine($"seed = {seed}");
        var result = await new ChaosRunner(options, writer).RunAsync();
        output.WriteLine(writer.ToString());
        ChaosReport.Write(Path.Combine(Path.GetTempPath(), "raftkv-chaos-tests", $"partition-seed-{seed}.md"), "partition", [result]);

        Assert.True(result.Sides.PartitionWindows > 0, "no partition was injected");
        Assert.True(result.Sides.MinorityAttempts > 0, "no client request was sent to the minority side while it was cut off");
        Assert.Equal(0, result.Sides.MinorityWritesOk);
        Assert.Equal(0, result.Sides.MinorityLinearizableReadsOk);
        output.WriteLine($"leader cuts longer than the election allowance: {result.Sides.LongLeaderCuts}, majority committed nothing in {result.Sides.LeaderlessMajorities}");
        Assert.True(result.Linearizability.Linearizable, result.Linearizability.Detail + "\n" + string.Join("\n", result.Linearizability.Counterexample));
        Assert.Empty(result.Problems);
    }
}
