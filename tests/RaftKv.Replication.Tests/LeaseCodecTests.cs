using RaftKv.Replication.Api;
using RaftKv.Replication.Commands;
using RaftKv.Replication.Leases;

namespace RaftKv.Replication.Tests;

public sealed class LeaseCodecTests
{
    [Fact]
    public void LeaseCommandsRoundTrip()
    {
        var grant = CommandCodec.Decode(CommandCodec.Encode(new KvCommand(CommandKind.LeaseGrant, 42, null, null, Lease: new LeaseCommand(0x7FFF_0000_1234_5678, LeaseLimits.MaxTtlSeconds))));
        Assert.Equal(CommandKind.LeaseGrant, grant.Kind);
        Assert.Equal(42, grant.TimestampUnixMs);
        Assert.Equal(new LeaseCommand(0x7FFF_0000_1234_5678, LeaseLimits.MaxTtlSeconds), grant.Lease);
        var revoke = CommandCodec.Decode(CommandCodec.Encode(new KvCommand(CommandKind.LeaseRevoke, 43, null, null, Lease: new LeaseCommand(9))));
        Assert.Equal(CommandKind.LeaseRevoke, revoke.Kind);
        Assert.Equal(9, revoke.Lease!.Id);
    }

    [Fact]
    public void PutWithLeaseRoundTrips()
    {
        var txn = KvTxn.Single(new KvOp(KvOpKind.Put, [1], [2], Lease: 77));
        var back = CommandCodec.Decode(CommandCodec.Encode(new KvCommand(CommandKind.Txn, 1, null, txn)));
        Assert.Equal(77, back.Txn!.Success[0].Lease);
        var plain = CommandCodec.Decode(CommandCodec.Encode(new KvCommand(CommandKind.Txn, 1, null, KvTxn.Single(KvOp.Put([1], [2])))));
        Assert.Equal(0, plain.Txn!.Success[0].Lease);
    }

    [Fact]
    public void LeaseRecordsFitTheLocalValueLimitAndRoundTrip()
    {
        var record = LeaseKeys.EncodeRecord(LeaseLimits.MaxTtlSeconds, LeaseLimits.MaxTtlSeconds);
        Assert.True(record.Length <= Storage.Tables.KeysFile.InlineValueMaxBytes);
        Assert.Equal((LeaseLimits.MaxTtlSeconds, LeaseLimits.MaxTtlSeconds), LeaseKeys.DecodeRecord(record));
        Assert.Equal(0x0102030405060708, LeaseKeys.IdOfLease(LeaseKeys.Lease(0x0102030405060708)));
        Assert.Equal([9, 9], LeaseKeys.UserKeyOfAttachment(LeaseKeys.Attachment(5, [9, 9])));
        var (start, end) = LeaseKeys.Attachments(5);
        Assert.True(LeaseKeys.Attachment(5, [0xFF, 0xFF]).AsSpan().SequenceCompareTo(end) < 0);
        Assert.True(LeaseKeys.Attachment(6, []).AsSpan().SequenceCompareTo(end) >= 0);
        Assert.True(LeaseKeys.Attachment(5, []).AsSpan().SequenceCompareTo(start) >= 0);
    }
}
