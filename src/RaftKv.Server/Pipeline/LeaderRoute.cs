using RaftKv.Replication.Api;

namespace RaftKv.Server.Pipeline;

/// <summary>Where a write goes: handled here, forwarded to <see cref="Leader"/> at <see cref="Address"/>,
/// or refused (no known leader, or a loop).</summary>
public readonly record struct LeaderRoute(LeaderRouteKind Kind, long SelfId, MemberInfo? Leader, string Address)
{
    public bool IsLocal => Kind == LeaderRouteKind.Local;
}
