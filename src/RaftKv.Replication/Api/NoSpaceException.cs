namespace RaftKv.Replication.Api;

/// <summary>
/// A write that adds data was refused because the NOSPACE alarm is active (etcd's <c>ErrNoSpace</c>,
/// "etcdserver: mvcc: database space exceeded", RESOURCE_EXHAUSTED; HTTP 507 <c>no_space</c>). Puts,
/// transactions with a put in either branch and lease grants are refused; reads, deletes, compaction,
/// defragmentation and disarming keep working (docs/operations.md, "Space quota").
/// </summary>
/// <remarks>Decided by the applier from the replicated alarm list (<c>KvState</c>), so every replica
/// refuses the same entries and applies nothing of them but the clock; the leader's admission check
/// (<c>KvNode.ProposeAsync</c>) raises it earlier without proposing. Nothing was applied either way.</remarks>
public sealed class NoSpaceException(string detail)
    : Exception("mvcc: database space exceeded (" + detail + ")");
