using RaftKv.Replication.Api;

namespace RaftKv.Server.Http;

/// <summary>
/// Proxies a write received by a follower to the leader's HTTP endpoint (one hop, transparent to
/// the client). A request that was already forwarded is never forwarded again (loop guard).
/// </summary>
public sealed class LeaderForwarder(IKvNode node, IHttpClientFactory clients)
{
    public const string ForwardedHeader = "X-RaftKv-Forwarded-By";

    /// <summary>Null when this node should handle the request itself (it is the leader).</summary>
    public async Task<IResult?> TryForwardAsync(HttpContext context, byte[] body)
    {
        if (node.IsLeader)
        {
            return null;
        }

        var status = node.GetStatus();
        if (context.Request.Headers.ContainsKey(ForwardedHeader))
        {
            return ApiError.Result(503, "no_leader", "forwarded to a node that is no longer the leader; retry");
        }

        if (status.Leader is not { HttpAddress.Length: > 0 } leader)
        {
            return ApiError.Result(503, "no_leader", "no leader is known; the cluster may not have a quorum");
        }

        var target = new Uri($"http://{leader.HttpAddress}{context.Request.Path}{context.Request.QueryString}");
        using var request = new HttpRequestMessage(new HttpMethod(context.Request.Method), target);
        if (body.Length > 0 || HttpMethods.IsPut(context.Request.Method) || HttpMethods.IsPost(context.Request.Method))
        {
            request.Content = new ByteArrayContent(body);
            if (context.Request.ContentType is { } ct)
            {
                request.Content.Headers.TryAddWithoutValidation("Content-Type", ct);
            }
        }

        request.Headers.TryAddWithoutValidation("Accept", context.Request.Headers.Accept.ToString());
        request.Headers.TryAddWithoutValidation(ForwardedHeader, status.NodeId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        try
        {
            using var response = await clients.CreateClient("leader").SendAsync(request, context.RequestAborted).ConfigureAwait(false);
            var bytes = await response.Content.ReadAsByteArrayAsync(context.RequestAborted).ConfigureAwait(false);
            return new ProxiedResult((int)response.StatusCode, response.Content.Headers.ContentType?.ToString(), bytes);
        }
        catch (HttpRequestException e)
        {
            return ApiError.Result(503, "leader_unreachable", $"leader {leader.Id} at {leader.HttpAddress} is unreachable: {e.Message}");
        }
    }
}
