using RaftKv.Server.Etcd;

namespace RaftKv.Server.Tests;

/// <summary>A negative watch start revision as etcd 3.4 treats it (its mvcc compact revision is -1 until the first
/// compaction): before any compaction -1 watches from now and lower starts are canceled with compact_revision -1;
/// after one, every negative start is canceled with the compact revision. The end-to-end check after a compaction,
/// through etcdctl as well: EtcdGrpcBadInputTests.NegativeWatchStartRevisionsAreCanceledAsCompacted.</summary>
public sealed class EtcdWatchNegativeStartTests
{
    [Theory]
    [InlineData(-1L, 0L, 0L, null)]
    [InlineData(-2L, 0L, 0L, -1L)]
    [InlineData(long.MinValue, 0L, 0L, -1L)]
    [InlineData(-1L, 7L, 0L, 7L)]
    [InlineData(-5L, 7L, 0L, 7L)]
    public void NegativeStartsAreEtcds(long start, long compactRevision, long expectedStart, long? expectedCompactedAt)
        => Assert.Equal((expectedStart, expectedCompactedAt), EtcdWatchSession.NegativeStart(start, compactRevision));
}
