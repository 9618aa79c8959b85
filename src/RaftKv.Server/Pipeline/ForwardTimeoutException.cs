namespace RaftKv.Server.Pipeline;

/// <summary>
/// A call this follower forwarded got no answer from the leader within <see cref="LeaderRouter.ForwardTimeout"/>
/// (the bound of a call whose client set no shorter deadline; etcd's request timeout). The request may have
/// reached the leader: the outcome is unknown (etcd's <c>etcdserver: request timed out</c>; native DEADLINE_EXCEEDED;
/// HTTP 504 <c>leader_timeout</c>; <see cref="ErrorKind.ForwardTimeout"/>).
/// </summary>
public sealed class ForwardTimeoutException(long? leader, TimeSpan bound)
    : Exception($"the leader {(leader is { } id ? id.ToString(System.Globalization.CultureInfo.InvariantCulture) + " " : string.Empty)}did not answer the forwarded request within {bound.TotalSeconds:0.#} s; the request may or may not have been applied: retry")
{
    /// <summary>The id of the leader the call was forwarded to.</summary>
    public long? Leader { get; } = leader;
}
