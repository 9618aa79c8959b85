using System.Text.Json;

namespace RaftKv.Cli;

/// <summary>
/// One answer of a server progress route, <c>GET /admin/{compact,migrate,backup}/progress</c> (docs/api.md,
/// "Operation progress"): <see cref="State"/> idle | running | done | failed | unavailable, <see cref="Done"/> of
/// <see cref="Total"/> counted in <see cref="Unit"/> (total 0 = not known yet), bytes likewise, and when the
/// operation started (ISO 8601, as the server wrote it: the identity of one run).
/// </summary>
public sealed record ServerProgress(string State, string Unit, long Done, long Total, long BytesDone, long BytesTotal, string? Started)
{
    /// <summary>The route answered and the node can report this operation (it is configured for it).</summary>
    public bool Available => State != "unavailable";

    public bool Finished => State is "done" or "failed";

    /// <summary>Parses the route's JSON body; null when it is not one (an older server, another route).</summary>
    public static ServerProgress? Parse(JsonElement json)
    {
        if (json.ValueKind != JsonValueKind.Object || !json.TryGetProperty("state", out var state) || state.ValueKind != JsonValueKind.String)
        {
            return null;
        }

        long Number(string name) => json.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetInt64() : 0;
        string? Text(string name) => json.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
        return new ServerProgress(state.GetString()!, Text("unit") ?? "steps", Number("done"), Number("total"), Number("bytes_done"), Number("bytes_total"), Text("started"));
    }

    /// <summary>Whether this report is of the run the command started rather than the one <paramref name="baseline"/>
    /// (read before the call) showed: a different start, or the baseline's own run when it was already running
    /// (the call joined or queued behind it).</summary>
    public bool IsAfter(ServerProgress baseline)
        => State is "running" or "done" or "failed" && Started is not null && (Started != baseline.Started || baseline.State == "running");
}
