using RaftKv.Replication.Api;
using RaftKv.Replication.Commands;

namespace RaftKv.Replication.Tests;

public sealed class CodecTests
{
    [Fact]
    public void RoundTripsEveryField()
    {
        var txn = new KvTxn(
            [new KvCompare([1], CompareTarget.Value, CompareOp.Greater, 7, [2, 3], true)],
            [KvOp.Put([4], [5], 1000, prevKv: true), KvOp.DeletePrefix([6]), KvOp.DeleteRange([7], [8]), KvOp.Get([9])],
            [KvOp.Delete([10])],
            "rid");
        var cmd = new KvCommand(CommandKind.Txn, 123456789, "rid", txn);
        var back = CommandCodec.Decode(CommandCodec.Encode(cmd));
        Assert.Equal(cmd.TimestampUnixMs, back.TimestampUnixMs);
        Assert.Equal("rid", back.RequestId);
        Assert.Equal(CompareOp.Greater, back.Txn!.Compares[0].Op);
        Assert.Equal([2, 3], back.Txn.Compares[0].Value);
        Assert.Equal(4, back.Txn.Success.Count);
        Assert.True(back.Txn.Success[0].PrevKv);
        Assert.Equal(1000, back.Txn.Success[0].TtlMs);
        Assert.True(back.Txn.Success[1].Prefix);
        Assert.Equal([8], back.Txn.Success[2].RangeEnd);
        Assert.Equal(KvOpKind.Delete, back.Txn.Failure[0].Kind);
        var tick = CommandCodec.Decode(CommandCodec.Encode(new KvCommand(CommandKind.Tick, 5, null, null)));
        Assert.Equal(CommandKind.Tick, tick.Kind);
    }

    [Fact]
    public void UnknownVersionIsRejectedLoudly()
    {
        var bytes = CommandCodec.Encode(new KvCommand(CommandKind.Tick, 5, null, null));
        bytes[1] = 99;
        var e = Assert.Throws<UnsupportedCommandVersionException>(() => CommandCodec.Decode(bytes));
        Assert.Contains("99", e.Message);
        Assert.Throws<UnsupportedCommandVersionException>(() => CommandCodec.Decode([0x00, 1, 1]));
    }
}
