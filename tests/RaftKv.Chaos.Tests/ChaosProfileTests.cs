using RaftKv.Chaos.Harness;
using Xunit.Abstractions;

namespace RaftKv.Chaos.Tests;

/// <summary>
/// The short chaos profile: real raftkv processes in network namespaces with seeded faults.
/// Requires root (network namespaces, iptables); without them the tests fail with the reason.
/// The long profile: <c>dotnet run --project chaos/RaftKv.Chaos -- --profile long --seeds 50</c>.
/// </summary>
[Collection("chaos")]
public sealed class ChaosProfileTests(ITestOutputHelper output)
{
    private static ChaosOptions Options(int seed, bool selfTest = false) => new()
    {
        Seed = seed,
        Faults = TimeSpan.FromSeconds(20),
        StaleReadSelfTest = selfTest,
        Healthy = selfTest ? TimeSpan.FromSeconds(8) : TimeSpan.FromSeconds(5),
        ServerDll = ChaosReport.DefaultServerDll(),
        WorkDir = Path.Combine(Path.GetTempPath(), "raftkv-chaos-tests"),
    };

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task ShortProfileKeepsEveryPromise(int seed)
    {
        var writer = new StringWriter();
        output.WriteLine($"seed = {seed} (rerun: dotnet run --project chaos/RaftKv.Chaos -- --first-seed {seed} --seeds 1)");
        var result = await new ChaosRunner(Options(seed), writer).RunAsync();
        output.WriteLine(writer.ToString());
        ChaosReport.Write(Path.Combine(Path.GetTempPath(), "raftkv-chaos-tests", $"short-seed-{seed}.md"), "short", [result]);
        Assert.True(result.Linearizability.Linearizable, result.Linearizability.Detail + "\n" + string.Join("\n", result.Linearizability.Counterexample));
        Assert.Empty(result.Problems);
        Assert.True(result.ReplicasIdentical);
        Assert.NotEmpty(result.FaultsInjected);
    }

    [Fact]
    public async Task SelfTestStaleReadsWithoutTheBarrierAreCaught()
    {
        var writer = new StringWriter();
        var result = await new ChaosRunner(Options(99, selfTest: true), writer).RunAsync();
        output.WriteLine(writer.ToString());
        Assert.False(result.Linearizability.Linearizable, "serializable reads from an isolated node must be reported as a violation");
        Assert.NotEmpty(result.Linearizability.Counterexample);
    }
}
