using RaftKv.Replication.Api;
using RaftKv.Replication.Commands;
using RaftKv.Replication.State;

namespace RaftKv.Replication.Tests;

/// <summary>The log-entry encoder reuses one buffer per thread (<see cref="PayloadWriter"/>) and the MVCC records are
/// sized up front: neither may leak bytes of an earlier, longer encoding or cut a record short.</summary>
public sealed class EncoderBufferTests
{
    private static KvCommand Put(byte[] key, byte[] value) => new(CommandKind.Txn, 42, null, KvTxn.Single(KvOp.Put(key, value)));

    [Fact]
    public void EncodingsAreTheSameBeforeAndAfterLongerOnesOnTheSameThread()
    {
        var random = new Random(1234); // seeded: the same bytes every run
        var small = Put([1, 2, 3], [4, 5]);
        var reference = CommandCodec.Encode(small);
        foreach (var size in new[] { 600, 70_000, 300_000, 10 }) // past the first buffer, the kept size, then small again
        {
            var value = new byte[size];
            random.NextBytes(value);
            var encoded = CommandCodec.Encode(Put([9], value));
            var back = CommandCodec.Decode(encoded);
            Assert.Equal(value, back.Txn!.Success[0].Value);
            Assert.Equal(reference, CommandCodec.Encode(small));
        }
    }

    [Fact]
    public void MvccRecordsRoundTripWithEscapedKeysAndLargeVarints()
    {
        var meta = new KeyMeta(long.MaxValue, long.MaxValue - 1, 300, long.MaxValue, 0);
        Assert.Equal(meta, MvccLayout.DecodeMeta(MvccLayout.EncodeMeta(meta), 0));

        byte[] key = [0x00, 0x61, 0x00, 0x00, 0xFF];
        var (parsed, revision) = MvccLayout.ParseHistoryKey(MvccLayout.HistoryKey(key, 123_456));
        Assert.Equal(key, parsed);
        Assert.Equal(123_456, revision);

        var withExpiry = meta with { ExpiresAtUnixMs = long.MaxValue };
        var kv = MvccLayout.DecodeHistory(key, 7, MvccLayout.EncodeHistoryPut(withExpiry, [1, 2, 3]), Storage.Tier.Memory);
        Assert.NotNull(kv);
        Assert.Equal([1, 2, 3], kv.Value.Value.ToArray());
        Assert.Equal(meta.Create, kv.Value.CreateRevision);
        Assert.Equal(meta.Version, kv.Value.Version);
        Assert.Equal(meta.Lease, kv.Value.Lease);
    }
}
