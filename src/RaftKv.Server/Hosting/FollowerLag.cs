namespace RaftKv.Server.Hosting;

/// <summary>One lag measurement of a follower by the leader (see <see cref="FollowerLagMonitor"/>).</summary>
/// <param name="AppliedIndex">The follower's last applied Raft index.</param>
/// <param name="Entries">Leader commit index minus <paramref name="AppliedIndex"/> (never negative).</param>
/// <param name="MeasuredAt">When the follower answered.</param>
public sealed record FollowerLag(long AppliedIndex, long Entries, DateTimeOffset MeasuredAt);
