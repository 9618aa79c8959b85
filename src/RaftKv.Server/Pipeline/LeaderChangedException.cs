namespace RaftKv.Server.Pipeline;

/// <summary>
/// A call this follower forwarded was abandoned because the leader it went to lost leadership before it
/// answered (this node saw another leader, a new election, or became leader itself: <see cref="LeaderRouter.LeaderChange"/>).
/// The request may have reached the old leader, so it is not sent again (it could apply twice): the outcome
/// is unknown and the client retries, as with etcd's <c>etcdserver: leader changed</c> (UNAVAILABLE; HTTP 503
/// <c>leader_changed</c>; <see cref="ErrorKind.LeaderChanged"/>).
/// </summary>
public sealed class LeaderChangedException(long? oldLeader)
    : Exception($"the leader {(oldLeader is { } id ? id.ToString(System.Globalization.CultureInfo.InvariantCulture) + " " : string.Empty)}the request was forwarded to lost leadership before it answered; the request may or may not have been applied: retry")
{
    /// <summary>The id of the leader the call was forwarded to.</summary>
    public long? OldLeader { get; } = oldLeader;
}
