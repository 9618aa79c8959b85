namespace RaftKv.Replication.Api;

/// <summary>The requested revision is newer than the store's (etcd: "mvcc: required revision is a future
/// revision", OUT_OF_RANGE). Bad input for the native mappings (<see cref="ArgumentException"/>).</summary>
public sealed class FutureRevisionException(long requested, long current)
    : ArgumentException($"mvcc: required revision {requested} is a future revision (current {current})")
{
    public long RequestedRevision { get; } = requested;

    public long CurrentRevision { get; } = current;
}
