using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;
using RaftKv.Replication.Api;
using RaftKv.Server.Hosting;
using RaftKv.Server.Http;
using RaftKv.Server.Pipeline;
using RaftKv.Server.Security;

namespace RaftKv.Server.Dashboard;

/// <summary>
/// <c>GET /cluster/overview</c>: every member as the dashboard's cluster page shows it, gathered by the
/// node the browser talks to (so the page stays same-origin whichever node serves it). Each member's
/// own view — role, term, commit/applied/durable index, alarms — comes from its <c>/stats</c>, fetched
/// over the leader transport (https when TLS is on) with the request's <c>Authorization</c> header and a
/// short timeout; a member that does not answer is listed with <c>reachable = false</c> and the error.
/// Per-follower lag is the leader's (its <c>/cluster</c>), since only the leader measures it.
/// </summary>
public sealed class ClusterOverview(IKvNode node, FollowerLagMonitor lags, IHttpClientFactory clients, LeaderTransport transport)
{
    private static readonly TimeSpan MemberTimeout = TimeSpan.FromSeconds(2);

    public async Task<object> GetAsync(HttpContext context)
    {
        var s = node.GetStatus();
        var authorization = context.Request.Headers.Authorization.ToString();
        var views = await Task.WhenAll(s.Members.Select(m => m.IsLocal ? Task.FromResult(LocalView()) : RemoteAsync(m.HttpAddress, "/stats", authorization, context.RequestAborted))).ConfigureAwait(false);
        var remoteLags = s.Leader is { IsLocal: false } leader
            ? await RemoteAsync(leader.HttpAddress, "/cluster", authorization, context.RequestAborted).ConfigureAwait(false)
            : null;
        return new
        {
            node_id = s.NodeId,
            leader_id = s.LeaderId,
            term = s.Term,
            role = s.Role,
            revision = node.Revision,
            alarms = CorruptionHttpApi.Alarms(node.Alarms),
            members = s.Members.Select((m, i) => new
            {
                id = m.Id,
                raft = m.RaftAddress,
                grpc = m.GrpcAddress,
                http = m.HttpAddress,
                leader = m.IsLeader,
                local = m.IsLocal,
                available = m.Available,
                lag = Lag(m, remoteLags),
                reachable = views[i].Status is not null,
                error = views[i].Error,
                status = views[i].Status,
            }),
        };
    }

    private long? Lag(MemberInfo m, MemberView? remoteLags)
    {
        if (remoteLags is null)
        {
            return lags.Lags.TryGetValue(m.Id, out var lag) ? lag.Entries : null;
        }

        if (remoteLags.Body is not { } body || !body.TryGetProperty("members", out var members))
        {
            return null;
        }

        foreach (var member in members.EnumerateArray())
        {
            if (member.GetProperty("id").GetInt64() == m.Id && member.TryGetProperty("lag", out var lag) && lag.ValueKind == JsonValueKind.Number)
            {
                return lag.GetInt64();
            }
        }

        return null;
    }

    private MemberView LocalView()
    {
        var s = node.GetStatus();
        return new MemberView(new MemberStatus(s.Role, s.Term, s.LeaderId, s.CommitIndex, s.AppliedIndex, s.DurableIndex, s.LastLogIndex, node.Alarms.Count), null, null);
    }

    private async Task<MemberView> RemoteAsync(string address, string path, string authorization, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(address))
        {
            return new MemberView(null, null, "no HTTP address published");
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(MemberTimeout);
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"{transport.Scheme}://{address}{path}");
            if (authorization.Length > 0)
            {
                request.Headers.Authorization = AuthenticationHeaderValue.Parse(authorization);
            }

            using var response = await clients.CreateClient(HttpLeaderForwarder.ClientName).SendAsync(request, timeout.Token).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode && response.StatusCode != System.Net.HttpStatusCode.ServiceUnavailable)
            {
                return new MemberView(null, null, $"{path} answered {(int)response.StatusCode}");
            }

            var body = await response.Content.ReadFromJsonAsync<JsonElement>(timeout.Token).ConfigureAwait(false);
            return new MemberView(path == "/stats" ? FromStats(body) : null, body, null);
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException or JsonException or FormatException or KeyNotFoundException or InvalidOperationException && !cancellationToken.IsCancellationRequested)
        {
            return new MemberView(null, null, e is OperationCanceledException ? $"no answer in {MemberTimeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s" : e.Message);
        }
    }

    private static MemberStatus FromStats(JsonElement stats) => new(
        stats.GetProperty("role").GetString() ?? "unknown",
        stats.GetProperty("term").GetInt64(),
        stats.TryGetProperty("leader_id", out var l) && l.ValueKind == JsonValueKind.Number ? l.GetInt64() : null,
        stats.GetProperty("commit_index").GetInt64(),
        stats.GetProperty("applied_index").GetInt64(),
        stats.GetProperty("durable_index").GetInt64(),
        stats.GetProperty("last_log_index").GetInt64(),
        stats.TryGetProperty("alarms", out var a) && a.ValueKind == JsonValueKind.Array ? a.GetArrayLength() : 0);

    private sealed record MemberView(MemberStatus? Status, JsonElement? Body, string? Error);

    /// <summary>One member's own view (snake_case on the wire).</summary>
    public sealed record MemberStatus(string Role, long Term, long? LeaderId, long CommitIndex, long AppliedIndex, long DurableIndex, long LastLogIndex, int Alarms);
}
