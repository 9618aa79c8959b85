using System.Globalization;
using RaftKv.Replication.Api;
using RaftKv.Server.Security;

namespace RaftKv.Server.Pipeline;

/// <summary>
/// HTTP leader forwarding, an endpoint filter on the write routes (<see cref="ForwardToLeader"/>):
/// on a follower the request is proxied to the leader's HTTP endpoint (one hop, transparent to the
/// client) with its method, path, query, body and every meaningful header (<see cref="ForwardedHeaders"/>;
/// X-Request-Id keeps a retry through a follower at-most-once), and the leader's status, content type
/// and body are replayed. A request that was already forwarded is never forwarded again (loop guard).
/// A hop is bounded like a gRPC one (<see cref="GrpcLeaderForwarder"/>): abandoned when the leader it went to
/// loses leadership (503 <c>leader_changed</c>, <see cref="LeaderChangedException"/>), and after
/// <see cref="LeaderRouter.ForwardTimeout"/> (504 <c>leader_timeout</c>, <see cref="ForwardTimeoutException"/>).
/// Neither is sent again (it may have reached the leader); the client retries, with the same X-Request-Id.
/// </summary>
public sealed class HttpLeaderForwarder(LeaderRouter router, IHttpClientFactory clients, LeaderTransport transport, IKvNode node) : IEndpointFilter
{
    /// <summary>Marks a forwarded request; its value is the forwarding node's id.</summary>
    public const string ForwardedHeader = "X-RaftKv-Forwarded-By";

    /// <summary>The header of the leader's answer to a forwarded request: its applied Raft index when it answered; the
    /// follower answers its client once it has applied that much (<see cref="LeaderRouter.CatchUpAsync"/>), as the gRPC
    /// front doors do (<see cref="GrpcLeaderForwarder.AppliedIndexTrailer"/>).</summary>
    public const string AppliedIndexHeader = "X-RaftKv-Applied-Index";

    /// <summary>Named <see cref="HttpClient"/> used for the hop (registered in <see cref="PipelineSetup"/>).</summary>
    public const string ClientName = "leader";

    /// <summary>Adds leader forwarding to a write route.</summary>
    public static RouteHandlerBuilder ForwardToLeader(RouteHandlerBuilder route)
        => route.AddEndpointFilter<RouteHandlerBuilder, HttpLeaderForwarder>();

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext invocation, EndpointFilterDelegate next)
    {
        var context = invocation.HttpContext;
        if (node.IsLearner)
        {
            return ApiError.Result(503, "learner", new LearnerNotSupportedException().Message); // docs/api.md, "Learners"
        }

        var forwarded = context.Request.Headers.ContainsKey(ForwardedHeader);
        var route = await router.RouteAsync(forwarded, m => m.HttpAddress, context.RequestAborted).ConfigureAwait(false);
        var watch = !LeaderRouter.HandsOverLeadership(context.Request.Path.Value ?? string.Empty);
        var leaderChange = route.Kind == LeaderRouteKind.Forward && watch ? router.LeaderChange(route) : CancellationToken.None;
        if (leaderChange.IsCancellationRequested)
        {
            // Leadership moved between routing and sending: nothing was sent, route to the new leader.
            route = await router.RouteAsync(forwarded, m => m.HttpAddress, context.RequestAborted, unreachable: route.Leader?.Id).ConfigureAwait(false);
            leaderChange = route.Kind == LeaderRouteKind.Forward && watch ? router.LeaderChange(route) : CancellationToken.None;
        }

        return route.Kind switch
        {
            LeaderRouteKind.Local => forwarded ? await AnswerForwardedAsync(invocation, next).ConfigureAwait(false) : await next(invocation).ConfigureAwait(false),
            LeaderRouteKind.AlreadyForwarded => ApiError.Result(503, "no_leader", "forwarded to a node that is no longer the leader; retry"),
            LeaderRouteKind.NoLeader => ApiError.Result(503, "no_leader", "no leader is known; the cluster may not have a quorum"),
            _ => await ForwardAsync(context, route, leaderChange).ConfigureAwait(false),
        };
    }

    /// <summary>The leader's side of a forwarded request: the answer carries <see cref="AppliedIndexHeader"/> (set after the
    /// handler ran, so the index covers its write; the result is written later, headers first).</summary>
    private async ValueTask<object?> AnswerForwardedAsync(EndpointFilterInvocationContext invocation, EndpointFilterDelegate next)
    {
        var result = await next(invocation).ConfigureAwait(false);
        invocation.HttpContext.Response.Headers[AppliedIndexHeader] = router.AppliedIndex.ToString(CultureInfo.InvariantCulture);
        return result;
    }

    private async Task<IResult> ForwardAsync(HttpContext context, LeaderRoute route, CancellationToken leaderChange)
    {
        byte[] body;
        using (var buffer = new MemoryStream())
        {
            await context.Request.Body.CopyToAsync(buffer, context.RequestAborted).ConfigureAwait(false);
            body = buffer.ToArray();
        }

        // The target as the client sent it (Http/KvPathKey): the host's decoded path would turn /kv/a%2Fb into another key,
        // and Uri's canonicalization would rewrite it too ('\' → '/', dot segments removed, escapes changed): sent as is.
        var target = new Uri($"{transport.Scheme}://{route.Address}{Http.KvPathKey.RawPath(context)}{context.Request.QueryString}", new UriCreationOptions { DangerousDisablePathAndQueryCanonicalization = true });
        using var request = new HttpRequestMessage(new HttpMethod(context.Request.Method), target);
        if (body.Length > 0 || HttpMethods.IsPut(context.Request.Method) || HttpMethods.IsPost(context.Request.Method))
        {
            request.Content = new ByteArrayContent(body);
        }

        var principal = Security.Auth.AuthPrincipal.Of(context); // auth on: the user travels as a token minted here
        foreach (var (name, values) in context.Request.Headers)
        {
            if (!ForwardedHeaders.ForwardHttp(name) || string.Equals(name, ForwardedHeader, StringComparison.OrdinalIgnoreCase)
                || (principal is not null && string.Equals(name, "Authorization", StringComparison.OrdinalIgnoreCase)))
            {
                continue;
            }

            // Content-* headers belong to the content (dropped when there is none, as a body-less request has no content headers).
            if (!request.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values))
            {
                request.Content?.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values);
            }
        }

        if (principal is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + principal.ForwardToken);
        }

        request.Headers.TryAddWithoutValidation(ForwardedHeader, route.SelfId.ToString(CultureInfo.InvariantCulture));
        using var abandon = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, leaderChange);
        abandon.CancelAfter(router.ForwardTimeout); // the timer goes with the source (disposed at the end of the hop)
        var deadline = DateTime.UtcNow + router.ForwardTimeout;
        try
        {
            using var response = await clients.CreateClient(ClientName).SendAsync(request, abandon.Token).ConfigureAwait(false);
            var bytes = await response.Content.ReadAsByteArrayAsync(abandon.Token).ConfigureAwait(false);
            if (response.IsSuccessStatusCode && !LeaderRouter.AnswersWithoutCatchUp(context.Request.Path.Value ?? string.Empty) && AppliedIndexOf(response) is { } leaderApplied)
            {
                await router.CatchUpAsync(leaderApplied, deadline, context.RequestAborted).ConfigureAwait(false); // visible here when answered
            }

            return new ProxiedResult((int)response.StatusCode, response.Content.Headers.ContentType?.ToString(), bytes);
        }
        catch (OperationCanceledException) when (!context.RequestAborted.IsCancellationRequested)
        {
            // Not the client: the leader lost leadership while the request was out, or did not answer in time.
            // It may have reached the leader, so it is not sent again.
            return ApiError.From(leaderChange.IsCancellationRequested
                ? new LeaderChangedException(route.Leader?.Id)
                : new ForwardTimeoutException(route.Leader?.Id, router.ForwardTimeout));
        }
        catch (HttpRequestException e)
        {
            return ApiError.Result(503, "leader_unreachable", $"leader {route.Leader!.Id} at {route.Address} is unreachable: {e.Message}");
        }
    }

    /// <summary>The leader's applied index from its answer, or null (a leader of an older release sends none).</summary>
    private static long? AppliedIndexOf(HttpResponseMessage response)
        => response.Headers.TryGetValues(AppliedIndexHeader, out var values) && long.TryParse(values.FirstOrDefault(), NumberStyles.None, CultureInfo.InvariantCulture, out var index) ? index : null;
}
