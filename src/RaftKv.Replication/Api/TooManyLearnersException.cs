namespace RaftKv.Replication.Api;

/// <summary>A learner add refused because the learner list already holds <see cref="Limit"/> learners
/// (<c>KvNodeOptions.MaxLearners</c>, default 1): etcd's "etcdserver: too many learner members in cluster"
/// (FAILED_PRECONDITION; HTTP 409 <c>too_many_learners</c>).</summary>
public sealed class TooManyLearnersException(int limit)
    : InvalidOperationException($"too many learner members in cluster: at most {limit} learner(s) at once (MAX_LEARNERS); promote or remove one first")
{
    public int Limit { get; } = limit;
}
