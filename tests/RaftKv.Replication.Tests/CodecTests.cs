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
    public void LearnerChangesRoundTrip()
    {
        foreach (var kind in new[] { LearnerChangeKind.Upsert, LearnerChangeKind.Remove, LearnerChangeKind.Promoted, LearnerChangeKind.Moved })
        {
            var change = new LearnerChange(kind, 4, "127.0.0.1:7004", "127.0.0.1:50054", "127.0.0.1:8084");
            var back = CommandCodec.Decode(CommandCodec.Encode(new KvCommand(CommandKind.Learner, 9, null, null, Learner: change)));
            Assert.Equal(CommandKind.Learner, back.Kind);
            Assert.Equal(9, back.TimestampUnixMs);
            Assert.Equal(change, back.Learner);
        }
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

    [Fact]
    public void EveryCommandIsVersion3AndResolutionsRoundTrip()
    {
        var nested = new KvTxn([new KvCompare([7], CompareTarget.Value, CompareOp.Equal, 0, [1])], [KvOp.Put([8], [9])], []);
        var txn = new KvTxn(
            [new KvCompare([1], CompareTarget.Version, CompareOp.Equal, 3), new KvCompare([2], CompareTarget.Value, CompareOp.Equal, 0, [9]), new KvCompare([3], CompareTarget.Value, CompareOp.Less, 0, [8])],
            [KvOp.Put([4], [5]), KvOp.Txn(nested)],
            []);
        var plain = CommandCodec.Encode(new KvCommand(CommandKind.Txn, 7, null, txn));
        Assert.Equal(CommandCodec.CurrentVersion, plain[1]);
        Assert.Null(CommandCodec.Decode(plain).Resolved);

        var resolved = new KvCommand(CommandKind.Txn, 7, "r", txn, [null, new ResolvedCompare(42, true), new ResolvedCompare(0, false), new ResolvedCompare(5, true)]);
        var bytes = CommandCodec.Encode(resolved);
        Assert.Equal(3, bytes[1]);
        var back = CommandCodec.Decode(bytes);
        Assert.Equal([null, new ResolvedCompare(42, true), new ResolvedCompare(0, false), new ResolvedCompare(5, true)], back.Resolved!);
        Assert.Equal(3, back.Txn!.Compares.Count);
        Assert.Equal("r", back.RequestId);
        Assert.Throws<ArgumentException>(() => CommandCodec.Encode(resolved with { Resolved = [null] }));

        // Version 4 (nested compares on the state before the txn) only for a Txn that asks for it.
        var path = CommandCodec.Encode(resolved with { FormatVersion = CommandCodec.TxnPathVersion });
        Assert.Equal(CommandCodec.TxnPathVersion, path[1]);
        Assert.Equal(CommandCodec.TxnPathVersion, CommandCodec.Decode(path).FormatVersion);
        Assert.Equal(CommandCodec.CurrentVersion, CommandCodec.Encode(new KvCommand(CommandKind.Tick, 1, null, null) { FormatVersion = CommandCodec.TxnPathVersion })[1]);
    }

    [Fact]
    public void Version6CarriesARangeRevisionAndOnlyForATxn()
    {
        var txn = new KvTxn([], [KvOp.Put([1], [2]), KvOp.Txn(new KvTxn([], [KvOp.RangeRead(new RangeRequest([1], [0], Revision: 42))], []))], []);
        Assert.True(KvNode.ReadsHistory(txn));
        Assert.False(KvNode.ReadsHistory(new KvTxn([], [KvOp.RangeRead(new RangeRequest([1]))], [KvOp.Put([1], [2])])));
        var bytes = CommandCodec.Encode(new KvCommand(CommandKind.Txn, 1, null, txn) { FormatVersion = CommandCodec.RangeRevisionVersion });
        Assert.Equal(6, bytes[1]);
        var back = CommandCodec.Decode(bytes);
        Assert.Equal(CommandCodec.RangeRevisionVersion, back.FormatVersion);
        Assert.Equal(42, back.Txn!.Success[1].Nested!.Success[0].Range!.Revision);
        Assert.Equal(CommandCodec.CurrentVersion, CommandCodec.Encode(new KvCommand(CommandKind.Tick, 1, null, null) { FormatVersion = CommandCodec.RangeRevisionVersion })[1]);

        // A node that reads up to version 5 refuses it (fail-stop) rather than read at the txn's revision.
        bytes[1] = CommandCodec.RangeRevisionVersion + 1;
        Assert.Throws<UnsupportedCommandVersionException>(() => CommandCodec.Decode(bytes));
    }

    [Fact]
    public void Version3RoundTripsTheMvccShapes()
    {
        var range = new RangeRequest([1], [0], 10, 0, SortOrder.Descend, SortTarget.Mod, KeysOnly: true, CountOnly: false, 2, 3, 4, 5);
        var nested = new KvTxn([new KvCompare([2], CompareTarget.Lease, CompareOp.Greater, Lease: 77, RangeEnd: [3])], [KvOp.RangeRead(range)], [KvOp.Delete([4], prevKv: true)]);
        var txn = new KvTxn(
            [new KvCompare([1], CompareTarget.Create, CompareOp.Less, Revision: 9), new KvCompare([1], CompareTarget.Mod, CompareOp.NotEqual, 4)],
            [new KvOp(KvOpKind.Put, [5], [6], Lease: 123, IgnoreLease: true), KvOp.Txn(nested), new KvOp(KvOpKind.Put, [6], IgnoreValue: true) { ResolvedMod = 12 }],
            [new KvOp(KvOpKind.DeleteRange, [7], RangeEnd: [0], PrevKv: true)]);
        var back = CommandCodec.Decode(CommandCodec.Encode(new KvCommand(CommandKind.Txn, 1, null, txn))).Txn!;
        Assert.Equal(CompareTarget.Create, back.Compares[0].Target);
        Assert.Equal(9, back.Compares[0].Operand);
        Assert.Equal(4, back.Compares[1].Operand);
        Assert.Equal(123, back.Success[0].Lease);
        Assert.True(back.Success[0].IgnoreLease);
        Assert.True(back.Success[2].IgnoreValue);
        Assert.Equal(12, back.Success[2].ResolvedMod);
        var n = back.Success[1].Nested!;
        Assert.Equal(77, n.Compares[0].Operand);
        Assert.Equal([3], n.Compares[0].RangeEnd);
        Assert.Equal(range, n.Success[0].Range! with { Key = range.Key, RangeEnd = range.RangeEnd });
        Assert.Equal([0], n.Success[0].Range!.RangeEnd);
        Assert.True(n.Failure[0].PrevKv);
        Assert.Equal([0], back.Failure[0].RangeEnd);
        var compact = CommandCodec.Decode(CommandCodec.Encode(new KvCommand(CommandKind.Compact, 1, null, null, Revision: 42)));
        Assert.Equal(CommandKind.Compact, compact.Kind);
        Assert.Equal(42, compact.Revision);
    }

    [Fact]
    public void Version1EntriesStillDecode()
    {
        // An entry as written by the release before format version 2 (bytes fixed here, not re-encoded).
        byte[] v1 =
        [
            0x4B, 1, 1, 0x07, 0x00, // magic, version 1, Txn, timestamp 7, no request id
            1, 1, 0x02, 1, 0, 0, 2, 0x09, 0, // compare: key [2], Value, Equal, version 0, value [9], exists false
            1, 1, 1, 0x04, 2, 0x05, 0, 0, 0, // success: Put key [4] value [5], no range end, no flags, ttl 0
            0, // failure: none
        ];
        var c = CommandCodec.Decode(v1);
        Assert.Equal(CommandKind.Txn, c.Kind);
        Assert.Equal(7, c.TimestampUnixMs);
        Assert.Null(c.Resolved); // evaluated against the value at apply, as that release did
        Assert.Equal(CompareTarget.Value, c.Txn!.Compares[0].Target);
        Assert.Equal([9], c.Txn.Compares[0].Value);
        Assert.Equal([5], c.Txn.Success[0].Value);

        // Before MVCC, compare target 0 was the Raft index of the key's last write: now the mod revision.
        byte[] v1Version = [0x4B, 1, 1, 0x07, 0x00, 1, 1, 0x02, 0, 0, 5, 0, 0, 0, 0];
        var cv = CommandCodec.Decode(v1Version);
        Assert.Equal(CompareTarget.Mod, cv.Txn!.Compares[0].Target);
        Assert.Equal(5, cv.Txn.Compares[0].Operand);
    }
}
