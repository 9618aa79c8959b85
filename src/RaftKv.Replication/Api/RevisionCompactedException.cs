namespace RaftKv.Replication.Api;

/// <summary>The requested revision is older than the compacted one (etcd: "mvcc: required revision has been
/// compacted", OUT_OF_RANGE). Derives from <see cref="HistoryCompactedException"/> so the native mappings
/// answer it as before (HTTP 400 <c>compacted</c>, gRPC OUT_OF_RANGE).</summary>
public sealed class RevisionCompactedException(long requested, long compactRevision)
    : HistoryCompactedException(requested, compactRevision, $"mvcc: required revision {requested} has been compacted (compact revision {compactRevision})")
{
    public long RequestedRevision { get; } = requested;

    public long CompactRevision { get; } = compactRevision;
}
