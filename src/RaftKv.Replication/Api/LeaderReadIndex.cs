namespace RaftKv.Replication.Api;

/// <summary>A leader's answer to a read-index request (<see cref="ILeaderReadIndex"/>).</summary>
/// <param name="Term">The term the answering leader leads in (the follower checks it is the one it asked for).</param>
/// <param name="Index">The read index: every entry committed before the request reached the leader is at or below it.</param>
public readonly record struct LeaderReadIndex(long Term, long Index);
