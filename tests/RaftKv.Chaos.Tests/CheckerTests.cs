using RaftKv.Chaos.Checker;
using RaftKv.Chaos.History;

namespace RaftKv.Chaos.Tests;

public sealed class CheckerTests
{
    private static int _id;

    private static Operation W(string v, long a, long b, OpStatus s = OpStatus.Ok, string key = "x") => new(++_id, 0, key, OpKind.Write, v, null, null, a, b, s);

    private static Operation R(string? v, long a, long b, string key = "x") => new(++_id, 1, key, OpKind.Read, null, null, v, a, b, OpStatus.Ok);

    private static Operation C(string? expected, string v, bool ok, long a, long b, OpStatus s = OpStatus.Ok) => new(++_id, 2, "x", OpKind.Cas, v, expected, s == OpStatus.Ok ? (ok ? "true" : "false") : null, a, b, s);

    [Fact]
    public void SequentialHistoryIsLinearizable()
        => Assert.True(LinearizabilityChecker.Check([W("1", 0, 1), R("1", 2, 3), W("2", 4, 5), R("2", 6, 7)]).Linearizable);

    [Fact]
    public void ConcurrentReadMaySeeEitherValue()
    {
        Assert.True(LinearizabilityChecker.Check([W("1", 0, 1), W("2", 2, 10), R("1", 3, 4), R("2", 5, 6)]).Linearizable);
        Assert.True(LinearizabilityChecker.Check([W("1", 0, 1), W("2", 2, 10), R("2", 3, 4)]).Linearizable);
    }

    [Fact]
    public void StaleReadIsCaughtWithAMinimalCounterexample()
    {
        var r = LinearizabilityChecker.Check([W("1", 0, 1), W("2", 2, 3), R("1", 4, 5), R("2", 6, 7), R("2", 8, 9)]);
        Assert.False(r.Linearizable);
        Assert.Equal("x", r.Key);
        Assert.True(r.Counterexample.Count <= 3, string.Join("\n", r.Counterexample));
        Assert.True(r.Counterexample.Any(o => o.Kind == OpKind.Read && o.Output == "1"), string.Join("\n", r.Counterexample));
    }

    [Fact]
    public void LostAcknowledgedWriteIsCaught()
        => Assert.False(LinearizabilityChecker.Check([W("1", 0, 1), W("2", 2, 3), R(null, 4, 5)]).Linearizable);

    [Fact]
    public void ReadOfAValueNeverWrittenIsCaught()
        => Assert.False(LinearizabilityChecker.Check([W("1", 0, 1), R("9", 2, 3)]).Linearizable);

    [Fact]
    public void CasAnomaliesAreCaught()
    {
        Assert.True(LinearizabilityChecker.Check([W("a", 0, 1), C("a", "b", true, 2, 3), R("b", 4, 5)]).Linearizable);
        Assert.False(LinearizabilityChecker.Check([W("a", 0, 1), C("a", "b", false, 2, 3)]).Linearizable); // must have succeeded
        Assert.False(LinearizabilityChecker.Check([W("a", 0, 1), C("z", "b", true, 2, 3)]).Linearizable); // must have failed
        Assert.False(LinearizabilityChecker.Check([W("a", 0, 1), C("a", "b", true, 2, 3), C("a", "c", true, 4, 5)]).Linearizable); // double success
    }

    [Fact]
    public void UnknownOutcomeMayOrMayNotHaveHappened()
    {
        // Took effect (observed later) ...
        Assert.True(LinearizabilityChecker.Check([W("1", 0, 1), W("2", 2, 3, OpStatus.Unknown), R("2", 10, 11)]).Linearizable);

        // ... or not at all ...
        Assert.True(LinearizabilityChecker.Check([W("1", 0, 1), W("2", 2, 3, OpStatus.Unknown), R("1", 10, 11)]).Linearizable);

        // ... but never before it was invoked.
        Assert.False(LinearizabilityChecker.Check([W("1", 0, 1), R("2", 2, 3), W("2", 5, 6, OpStatus.Unknown)]).Linearizable);

        // An unknown CAS that took effect.
        Assert.True(LinearizabilityChecker.Check([W("a", 0, 1), C("a", "b", false, 2, 3, OpStatus.Unknown), R("b", 5, 6)]).Linearizable);
    }

    [Fact]
    public void UnseenUnknownWriteMayExplainALaterFailedCas()
    {
        // Found by the harness (seed 2): an unknown-outcome write that nobody read committed late,
        // and a CAS on the previously read value failed. That is linearizable.
        Assert.True(LinearizabilityChecker.Check([W("u", 0, 1, OpStatus.Unknown), W("a", 2, 3), R("a", 4, 5), C("a", "b", false, 6, 7)]).Linearizable);
        Assert.False(LinearizabilityChecker.Check([W("a", 2, 3), R("a", 4, 5), C("a", "b", false, 6, 7)]).Linearizable);
    }

    [Fact]
    public void UnseenUnknownCasAndSeveralUnseenWritesExplainSeveralFailedCases()
    {
        // Two failed CASes on a value that was current, each needing its own unseen write in between:
        // the unseen writes are interchangeable, but both must still be usable.
        Assert.True(LinearizabilityChecker.Check(
        [
            W("u1", 0, 1, OpStatus.Unknown), W("u2", 0, 1, OpStatus.Unknown),
            W("a", 2, 3), C("a", "x", false, 4, 5), W("b", 6, 7), C("b", "y", false, 8, 9),
        ]).Linearizable);
        Assert.False(LinearizabilityChecker.Check(
        [
            W("u1", 0, 1, OpStatus.Unknown),
            W("a", 2, 3), C("a", "x", false, 4, 5), W("b", 6, 7), C("b", "y", false, 8, 9),
        ]).Linearizable);

        // An unknown CAS that succeeded with an unobserved value can explain a failed CAS too,
        // but only if its expected value was current.
        Assert.True(LinearizabilityChecker.Check([W("a", 0, 1), C("a", "z", false, 0, 1, OpStatus.Unknown), C("a", "x", false, 4, 5)]).Linearizable);
        Assert.False(LinearizabilityChecker.Check([W("a", 0, 1), C("q", "z", false, 0, 1, OpStatus.Unknown), C("a", "x", false, 4, 5)]).Linearizable);
    }

    [Fact]
    public void AnUnknownWriteExpectedByASuccessfulCasTookEffectBeforeIt()
    {
        Assert.True(LinearizabilityChecker.Check([W("a", 0, 1), W("u", 2, 3, OpStatus.Unknown), C("u", "v", true, 4, 5), R("v", 6, 7)]).Linearizable);
        Assert.False(LinearizabilityChecker.Check([W("a", 0, 1), C("u", "v", true, 2, 3), W("u", 4, 5, OpStatus.Unknown)]).Linearizable);
    }

    [Fact]
    public void FailedOperationsDidNotHappen()
        => Assert.False(LinearizabilityChecker.Check([W("1", 0, 1), W("2", 2, 3, OpStatus.Fail), R("2", 4, 5)]).Linearizable);

    [Fact]
    public void KeysAreCheckedIndependently()
    {
        var r = LinearizabilityChecker.Check([W("1", 0, 1, key: "a"), W("1", 0, 1, key: "b"), R("1", 2, 3, key: "a"), R(null, 2, 3, key: "b")]);
        Assert.False(r.Linearizable);
        Assert.Equal("b", r.Key);
    }

    [Fact]
    public void SeededRandomSequentialHistoriesAreLinearizableAndOneCorruptionIsCaught()
    {
        var seed = Environment.TickCount;
        var rng = new Random(seed);
        var ops = new List<Operation>();
        string? state = null;
        long t = 0;
        for (var i = 0; i < 300; i++)
        {
            if (rng.Next(2) == 0)
            {
                state = $"v{i}";
                ops.Add(W(state, t, t + 1));
            }
            else
            {
                ops.Add(R(state, t, t + 1));
            }

            t += 2;
        }

        Assert.True(LinearizabilityChecker.Check(ops).Linearizable, $"seed {seed}");
        var lastRead = ops.FindLastIndex(o => o.Kind == OpKind.Read && o.Output is not null);
        if (lastRead > 0)
        {
            ops[lastRead] = ops[lastRead] with { Output = "corrupt" };
            Assert.False(LinearizabilityChecker.Check(ops).Linearizable, $"seed {seed}");
        }
    }
}
