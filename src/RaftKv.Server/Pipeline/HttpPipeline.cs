using Microsoft.AspNetCore.Diagnostics;
using RaftKv.Server.Security;

namespace RaftKv.Server.Pipeline;

/// <summary>
/// The HTTP pipeline, outermost first (docs/architecture.md, "Server pipeline"):
/// exception handler (anything unclassified → 500 JSON) → status-code pages (404/405 as JSON) →
/// <see cref="HttpClientErrors"/> (client errors → 4xx/503 JSON) → <see cref="HttpOperationMetrics"/>
/// → the endpoint's filters (<see cref="HttpLeaderForwarder"/> on writes) → handler. (The host runs
/// routing before these middlewares, so the endpoint is already chosen.) Authentication and
/// authorization (<see cref="HttpAuthMiddleware"/>) come after the client certificate's identity.
/// </summary>
public static class HttpPipeline
{
    public static void UseRaftKvPipeline(this WebApplication app)
    {
        app.UseExceptionHandler(errors => errors.Run(async context =>
        {
            var error = context.Features.Get<IExceptionHandlerFeature>()?.Error ?? new InvalidOperationException("unknown error");
            await ApiError.From(error).ExecuteAsync(context).ConfigureAwait(false);
        }));
        app.UseStatusCodePages(async status =>
        {
            var http = status.HttpContext;
            if (http.Response.StatusCode == 404 && !http.Response.HasStarted && http.Response.ContentLength is null)
            {
                await ApiError.Result(404, "not_found", $"no route for {http.Request.Method} {http.Request.Path}").ExecuteAsync(http).ConfigureAwait(false);
            }
            else if (http.Response.StatusCode == 405)
            {
                await ApiError.Result(405, "method_not_allowed", $"{http.Request.Method} is not allowed on {http.Request.Path}").ExecuteAsync(http).ConfigureAwait(false);
            }
        });
        app.UseMiddleware<HttpClientErrors>();
        app.UseMiddleware<HttpOperationMetrics>();
        app.UseMiddleware<ClientIdentityMiddleware>(); // the TLS client certificate's CN (Security/ClientIdentity)
        app.UseMiddleware<HttpAuthMiddleware>(); // auth on: credentials and the route's access (Security/Auth)
    }

    /// <summary>Marks a route as a write: on a follower it is forwarded to the leader.</summary>
    public static RouteHandlerBuilder ForwardToLeader(this RouteHandlerBuilder route) => HttpLeaderForwarder.ForwardToLeader(route);
}
