using System.Diagnostics;
using RaftKv.Chaos.Harness;
using RaftKv.Replication;

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
        // Sent after the leader-lease window (see the lease test below), so not exempt.
        var lease = (long)(SideCheck.LeaderLeaseWindow.TotalSeconds * Stopwatch.Frequency);
        var cut = Partition with { End = 100 + (4 * lease) };
        var lin = SideCheck.From([cut], [new Attempt(3, AttemptKind.LinearizableRead, 100 + lease + 10, 100 + lease + 50, Ok: true)]);
        var ser = SideCheck.From([Partition], [new Attempt(3, AttemptKind.SerializableRead, 110, 150, Ok: true)]);
        Assert.Single(lin.Problems());
        Assert.Empty(ser.Problems());
        Assert.Equal(1, ser.MinoritySerializableReadsOk);
    }

    [Fact]
    public void ALinearizableReadSentWithinTheLeaderLeaseIsExemptButCountedApartOneSentAfterIsAProblem()
    {
        var lease = (long)(SideCheck.LeaderLeaseWindow.TotalSeconds * Stopwatch.Frequency);
        var cut = new FaultWindow(FaultKind.PartitionLeaderMinority, [3], 1000, 1000 + (4 * lease));
        var inLease = new Attempt(3, AttemptKind.LinearizableRead, 1000 + (lease / 2), 1000 + lease + 10, Ok: true); // sent inside, answered after: still exempt
        var afterLease = new Attempt(3, AttemptKind.LinearizableRead, 1000 + lease + 1, 1000 + lease + 20, Ok: true);
        var writeInLease = new Attempt(3, AttemptKind.Write, 1000 + 1, 1000 + 2, Ok: true);

        var exempt = SideCheck.From([cut], [inLease]);
        Assert.Equal(0, exempt.MinorityLinearizableReadsOk);
        Assert.Equal(1, exempt.MinorityLeaseReadsOk);
        Assert.Empty(exempt.Problems());

        var counted = SideCheck.From([cut], [inLease, afterLease]);
        Assert.Equal(1, counted.MinorityLinearizableReadsOk);
        Assert.Equal(1, counted.MinorityLeaseReadsOk);
        Assert.Single(counted.Problems());

        var write = SideCheck.From([cut], [writeInLease]); // writes have no lease exemption
        Assert.Equal(1, write.MinorityWritesOk);
        Assert.Single(write.Problems());

        var majority = SideCheck.From([cut], [inLease with { Node = 1 }]); // the exemption is about the minority only
        Assert.Equal(0, majority.MinorityLeaseReadsOk);
    }

    [Fact]
    public void AMajorityThatCommitsNoWriteDuringALongLeaderCutIsCountedLeaderless()
    {
        var allowance = (long)(SideCheck.MajorityElectionAllowance.TotalSeconds * Stopwatch.Frequency);
        var cut = new FaultWindow(FaultKind.PartitionLeaderMinority, [3], 1000, 1000 + allowance + 100);
        var failed = new Attempt(1, AttemptKind.Write, 1010, 1000 + allowance, Ok: false);
        var committed = new Attempt(2, AttemptKind.Write, 1000 + allowance, 1000 + allowance + 50, Ok: true);
        var committedAfter = committed with { Return = 1000 + allowance + 200 }; // answered after the window: not counted

        var leaderless = SideCheck.From([cut], [failed, committedAfter]);
        Assert.Equal(1, leaderless.LongLeaderCuts);
        Assert.Equal(1, leaderless.LeaderlessMajorities);
        Assert.Empty(leaderless.Problems()); // reported, not judged (see SideCheck.LeaderlessMajorities)

        var elected = SideCheck.From([cut], [failed, committed]);
        Assert.Equal(0, elected.LeaderlessMajorities);

        // A short cut, a cut that left the leader in the majority, or no writes sent: nothing to judge.
        Assert.Equal(0, SideCheck.From([cut with { End = 1000 + allowance - 1 }], [failed]).LongLeaderCuts);
        Assert.Equal(0, SideCheck.From([cut with { Kind = FaultKind.PartitionMinority }], [failed]).LongLeaderCuts);
        Assert.Equal(0, SideCheck.From([cut], [failed with { Kind = AttemptKind.LinearizableRead }]).LeaderlessMajorities);
    }

    [Fact]
    public void TheElectionAllowanceCoversTheServersElectionAndVoteTimeouts()
    {
        // The server's defaults (ELECTION_TIMEOUT_MS): the longest election timeout plus a vote request that times
        // out on the cut-off leader must fit in the allowance, or a slow but correct election would count as a failure.
        var defaults = new KvNodeOptions();
        Assert.True(defaults.RequestTimeoutFitsElection);
        Assert.True(defaults.ElectionTimeoutUpper + defaults.RequestTimeout + defaults.ConnectTimeout < SideCheck.MajorityElectionAllowance);
    }

    [Fact]
    public void TheLeaseWindowCoversTheServersLeaderLease()
    {
        // DotNext's LeaderLeaseDuration = LowerElectionTimeout / ClockDriftBound (default 1); raftkv passes
        // KvNodeOptions.ElectionTimeoutLower as LowerElectionTimeout (KvNode.OpenAsync).
        Assert.True(SideCheck.LeaderLeaseWindow > new KvNodeOptions().ElectionTimeoutLower);
        Assert.True(SideCheck.LeaderLeaseWindow > new KvNodeOptions().ReadLeaseDuration); // RaftKv's read lease
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
