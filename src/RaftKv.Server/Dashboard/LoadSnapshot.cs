namespace RaftKv.Server.Dashboard;

/// <summary>The body of <c>GET /stats/load</c> (snake_case on the wire): seconds [<c>from</c>, <c>to</c>]
/// (unix seconds) and, per operation, one point per second: <c>count</c> finished operations,
/// <c>errors</c> among them (outcome client_error or error), latency percentiles in milliseconds
/// (<c>null</c> in a second without operations). Version 1 of this shape; fields are only added.</summary>
public sealed record LoadSnapshot(long From, long To, IReadOnlyList<LoadSnapshot.Series> Operations)
{
    public sealed record Series(string Api, string Op, IReadOnlyList<Point> Points);

    public sealed record Point(long T, long Count, long Errors, double? P50Ms, double? P90Ms, double? P99Ms);
}
