using System.Globalization;
using RaftKv.Replication.Api;
using RaftKv.Server.Pipeline;

namespace RaftKv.Server.Http;

/// <summary>
/// The corruption check and alarms over HTTP (docs/operations.md, "Corruption check"):
/// <c>POST /admin/corruption-check</c> runs a check now and <c>POST /admin/alarms/disarm</c> disarms
/// alarms (both on the leader; forwarded there from a follower), and the JSON shapes that
/// <c>/health</c> and <c>/stats</c> show.
/// </summary>
public static class CorruptionHttpApi
{
    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapPost("/admin/corruption-check", async (IKvNode node, CancellationToken ct) =>
        {
            var r = await node.CheckCorruptionAsync(ct).ConfigureAwait(false);
            return Results.Json(Check(r));
        }).ForwardToLeader();

        app.MapPost("/admin/alarms/disarm", async (HttpRequest request, IKvNode node, string? alarm, CancellationToken ct) =>
        {
            var member = HttpArgs.MemberId(request, "member");
            var type = (alarm ?? "CORRUPT").ToUpperInvariant() switch
            {
                "CORRUPT" => AlarmType.Corrupt,
                "NOSPACE" => AlarmType.NoSpace,
                _ => throw new ArgumentException($"unknown alarm '{alarm}' (CORRUPT or NOSPACE)"),
            };
            await node.DisarmAlarmAsync(type, member ?? 0, ct).ConfigureAwait(false);
            return Results.Json(new { alarms = Alarms(node.Alarms) });
        }).ForwardToLeader();
    }

    /// <summary>The alarm list as <c>/health</c> and <c>/stats</c> show it.</summary>
    public static object[] Alarms(IReadOnlyList<AlarmMember> alarms)
        => alarms.Select(a => (object)new { alarm = a.Name, member_id = a.MemberId, index = a.Index, reason = a.Reason }).ToArray();

    /// <summary>The node's corruption-check counters and last result, for <c>/stats</c>.</summary>
    public static object Status(CorruptionCheckStatus s) => new
    {
        interval_seconds = (long)s.Interval.TotalSeconds,
        checks = s.Checks,
        failures = s.Failures,
        last = s.Last is { } last ? Check(last) : null,
    };

    private static object Check(CorruptionCheckResult r) => new
    {
        index = r.Index,
        at = r.At.ToString("O", CultureInfo.InvariantCulture),
        outcome = r.Outcome,
        corrupt = r.Corrupt,
        unanswered = r.Unanswered,
        hashes = r.Hashes.Select(h => new { member_id = h.MemberId, hash = h.Hash, keys = h.Keys, corruption = h.Corruption }),
        detail = r.Detail,
    };
}
