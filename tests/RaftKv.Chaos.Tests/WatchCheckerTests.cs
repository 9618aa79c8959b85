using RaftKv.Chaos.Checker;

namespace RaftKv.Chaos.Tests;

/// <summary>The watch checker finds each way a watcher can break its promise: a missed, repeated, reordered or
/// invented event, and a reference that does not replay to the final state.</summary>
public sealed class WatchCheckerTests
{
    private static readonly WatchedEvent[] Reference =
    [
        new(2, "k0", false, "a"),
        new(3, "k1", false, "b"),
        new(4, "k0", false, "c"),
        new(5, "k1", true, string.Empty),
        new(6, "k2", false, "d"),
    ];

    private static readonly Dictionary<string, string> Final = new(StringComparer.Ordinal) { ["k0"] = "c", ["k2"] = "d" };

    [Fact]
    public void AWatcherThatSawEverythingOnceInOrderPasses()
        => Assert.Empty(WatchChecker.Check("w", Reference, Reference, Final));

    [Fact]
    public void AMissedEventIsReported()
    {
        var problems = WatchChecker.Check("w", Reference.Where(e => e.Revision != 4).ToList(), Reference, Final);
        Assert.Contains(problems, p => p.Contains("missed 1 of 5 events, first r4 put k0=c", StringComparison.Ordinal));
    }

    [Fact]
    public void ARepeatedEventIsReported()
    {
        var problems = WatchChecker.Check("w", [.. Reference[..3], Reference[2], .. Reference[3..]], Reference, Final);
        Assert.Contains(problems, p => p.Contains("out of order or repeated", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("1 events delivered more than once", StringComparison.Ordinal));
    }

    [Fact]
    public void AReorderedEventIsReported()
    {
        var problems = WatchChecker.Check("w", [Reference[1], Reference[0], .. Reference[2..]], Reference, Final);
        Assert.Contains(problems, p => p.Contains("out of order or repeated at position 1", StringComparison.Ordinal));
    }

    [Fact]
    public void AnInventedOrAlteredEventIsReported()
    {
        var altered = Reference.Select(e => e.Revision == 3 ? e with { Value = "x" } : e).ToList();
        var problems = WatchChecker.Check("w", altered, Reference, Final);
        Assert.Contains(problems, p => p.Contains("1 events that the history does not have, first r3 put k1=x", StringComparison.Ordinal));
    }

    [Fact]
    public void AReferenceThatDoesNotReplayToTheFinalStateIsReported()
    {
        var problems = WatchChecker.Check("w", Reference, Reference, new Dictionary<string, string>(StringComparer.Ordinal) { ["k0"] = "c" });
        Assert.Contains(problems, p => p.Contains("does not replay to the final state: 1 keys differ, e.g. k2", StringComparison.Ordinal));
    }
}
