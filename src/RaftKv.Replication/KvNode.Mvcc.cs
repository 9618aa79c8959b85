using RaftKv.Replication.Api;

namespace RaftKv.Replication;

public sealed partial class KvNode
{
    public long Revision => throw new NotImplementedException();

    public long CompactRevision => throw new NotImplementedException();

    public Task<RangeResult> RangeAsync(RangeRequest request, ReadConsistency consistency, CancellationToken cancellationToken = default)
        => throw new NotImplementedException();

    public Task<long> CompactRevisionAsync(long revision, bool physical, CancellationToken cancellationToken = default)
        => throw new NotImplementedException();

    public IAsyncEnumerable<IReadOnlyList<MvccEvent>> WatchRevisionsAsync(byte[] key, byte[]? rangeEnd, long startRevision, bool prevKv, CancellationToken cancellationToken = default)
        => throw new NotImplementedException();
}
