namespace RaftKv.Replication.Api;

/// <summary>A promote named a voting member: etcd's "etcdserver: can only promote a learner member"
/// (FAILED_PRECONDITION); bad input to the native API.</summary>
public sealed class NotLearnerException(long memberId)
    : ArgumentException($"member {memberId} is not a learner")
{
    public long MemberId { get; } = memberId;
}
