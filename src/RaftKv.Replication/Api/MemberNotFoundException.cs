namespace RaftKv.Replication.Api;

/// <summary>A membership call (remove, update, promote) named no member the leader lists (etcd: "etcdserver: member not
/// found", NOT_FOUND). A removal retried after an unknown outcome gets it once the first one has applied.</summary>
public sealed class MemberNotFoundException(long memberId)
    : ArgumentException($"no member with id {memberId}")
{
    public long MemberId { get; } = memberId;
}
