using RaftKv.Chaos.Harness;

namespace RaftKv.Chaos.Tests;

/// <summary>The minority-side and hidden-leader accounting, on synthetic attempts.</summary>
public sealed class SideCheckTests
{
    private static readonly FaultWindow Partition = new(FaultKind.PartitionMinority, [3], 100, 200);

    [Fact]
    public void AWriteAcknowledgedByTheMinorityIsAProblem()
    {
        var check = SideCheck.From([Partition], [new Attempt(3, AttemptKind.Write, 110, 150, Ok: true), new Attempt(1, AttemptKind.Write, 110, 150, Ok: true)]);
        Assert.Equal(1, check.MinorityWritesOk);
        Assert.Equal(1, check.MajorityWritesOk);
        Assert.Single(check.Problems());
    }

    [Fact]
    public void ALinearizableReadOnTheMinorityIsAProblemASerializableOneIsNot()
    {
        var lin = SideCheck.From([Partition], [new Attempt(3, AttemptKind.LinearizableRead, 110, 150, Ok: true)]);
        var ser = SideCheck.From([Partition], [new Attempt(3, AttemptKind.SerializableRead, 110, 150, Ok: true)]);
        Assert.Single(lin.Problems());
        Assert.Empty(ser.Problems());
        Assert.Equal(1, ser.MinoritySerializableReadsOk);
    }

    [Fact]
    public void RequestsOverlappingTheWindowEdgesAndRefusalsAreNotCounted()
    {
        var check = SideCheck.From([Partition],
        [
            new Attempt(3, AttemptKind.Write, 90, 150, Ok: true), // sent before the cut
            new Attempt(3, AttemptKind.Write, 150, 210, Ok: true), // answered after the heal
            new Attempt(3, AttemptKind.Write, 120, 140, Ok: false),
        ]);
        Assert.Equal(2, check.MinorityAttempts); // sent while cut off: the refused one and the one answered after the heal
        Assert.Empty(check.Problems());
    }

    [Fact]
    public void HiddenLeaderAnsweringOrNoWriteThroughOthersIsAProblem()
    {
        var hidden = new FaultWindow(FaultKind.ClientIsolateLeader, [1], 100, 200);
        Assert.Equal(2, SideCheck.From([hidden], [new Attempt(1, AttemptKind.LinearizableRead, 110, 120, Ok: true), new Attempt(2, AttemptKind.Write, 110, 190, Ok: false)]).Problems().Count());
        Assert.Empty(SideCheck.From([hidden], [new Attempt(1, AttemptKind.Write, 110, 190, Ok: false), new Attempt(2, AttemptKind.Write, 110, 150, Ok: true)]).Problems());
    }

    [Theory]
    [InlineData(3, 2, null, "2")]
    [InlineData(3, 3, 1, "1")]
    [InlineData(5, 5, null, "5,1")]
    [InlineData(5, 1, 4, "4,5")]
    public void TheMinorityIsAQuorumShortOfAMajority(int nodes, int faultNode, int? leader, string expected)
    {
        var minority = ChaosRunner.Minority(new Fault(FaultKind.PartitionMinority, faultNode, TimeSpan.FromSeconds(1)), Enumerable.Range(1, nodes).ToList(), leader);
        Assert.Equal(expected, string.Join(',', minority));
    }
}
