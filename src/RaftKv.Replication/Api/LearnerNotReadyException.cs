namespace RaftKv.Replication.Api;

/// <summary>A promote refused because the learner is not caught up with the leader (or not connected to it):
/// etcd's "etcdserver: can only promote a learner member which is in sync with leader" (FAILED_PRECONDITION).</summary>
public sealed class LearnerNotReadyException(long learnerId, string detail)
    : InvalidOperationException($"member {learnerId} is a learner not in sync with the leader: {detail}")
{
    public long LearnerId { get; } = learnerId;
}
