using RaftKv.Replication.Api;
using RaftKv.Replication.Commands;

namespace RaftKv.Replication.Tests;

/// <summary>The corruption check's verdict (<see cref="CorruptionJudge"/>) and its two commands' encoding.</summary>
public sealed class CorruptionJudgeTests
{
    private static StateHash H(long member, string? hash, string? corruption = null) => new(member, 10, hash, 1, corruption);

    [Fact]
    public void AgreeingHashesNameNobody()
    {
        Assert.Empty(CorruptionJudge.Corrupt([H(1, "a"), H(2, "a"), H(3, "a")], 3));
        Assert.Empty(CorruptionJudge.Corrupt([H(1, "a"), H(2, "a")], 3)); // one member did not answer
    }

    [Fact]
    public void TheMemberOutsideTheMajorityIsCorrupt()
    {
        Assert.Equal([2], CorruptionJudge.Corrupt([H(1, "a"), H(2, "b"), H(3, "a")], 3));
        Assert.Equal([1], CorruptionJudge.Corrupt([H(1, "b"), H(2, "a"), H(3, "a")], 3)); // the leader itself
        Assert.Equal([4, 5], CorruptionJudge.Corrupt([H(1, "a"), H(2, "a"), H(3, "a"), H(4, "b"), H(5, "c")], 5));
    }

    [Fact]
    public void WithoutAMajorityEveryMemberThatAnsweredIsNamed()
    {
        Assert.Equal([1, 2], CorruptionJudge.Corrupt([H(1, "a"), H(2, "b")], 3));
        Assert.Equal([1, 2, 3, 4], CorruptionJudge.Corrupt([H(1, "a"), H(2, "a"), H(3, "b"), H(4, "b")], 4));
    }

    [Fact]
    public void AMemberReportingCorruptStorageIsCorruptWhateverTheOthersSay()
    {
        Assert.Equal([3], CorruptionJudge.Corrupt([H(1, "a"), H(2, "a"), H(3, null, "corrupt storage file 'x.sst'")], 3));
        Assert.Equal([2], CorruptionJudge.Corrupt([H(1, "a"), H(2, null, "bad")], 3));
    }

    [Fact]
    public void HashCheckAndAlarmCommandsRoundTrip()
    {
        var check = CommandCodec.Decode(CommandCodec.Encode(new KvCommand(CommandKind.HashCheck, 77, null, null)));
        Assert.Equal(CommandKind.HashCheck, check.Kind);
        Assert.Equal(77, check.TimestampUnixMs);

        var change = new AlarmChange(true, AlarmType.Corrupt, 3, 123456);
        var encoded = CommandCodec.Encode(new KvCommand(CommandKind.Alarm, 78, null, null, Alarm: change));
        Assert.Equal(CommandCodec.CurrentVersion, encoded[1]); // a release that does not know the kind refuses it (fail-stop)
        var alarm = CommandCodec.Decode(encoded);
        Assert.Equal(CommandKind.Alarm, alarm.Kind);
        Assert.Equal(change, alarm.Alarm);
        Assert.Equal(new AlarmChange(false, AlarmType.Corrupt, 0, 0), CommandCodec.Decode(CommandCodec.Encode(new KvCommand(CommandKind.Alarm, 79, null, null, Alarm: new AlarmChange(false, AlarmType.Corrupt, 0, 0)))).Alarm);
    }
}
