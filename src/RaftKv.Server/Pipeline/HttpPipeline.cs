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
/// gRPC calls go through the last two only (<see cref="IsGrpc"/>); their errors, metrics and auth are the
/// gRPC stages' (<see cref="GrpcOperationInterceptor"/>, <see cref="GrpcAuthInterceptor"/>).
/// </summary>
public static class HttpPipeline
{
    public static void UseRaftKvPipeline(this WebApplication app)
    {
        // gRPC calls skip the HTTP stages: Grpc.AspNetCore answers every call itself (a status in the trailers,
        // never an exception out of the endpoint) and the gRPC stages (GrpcOperationInterceptor,
        // GrpcAuthInterceptor) do their jobs; each HTTP stage was an extra async frame, feature or service
        // lookup on every call (BENCHMARKS.md, "CPU per operation").
        app.UseWhen(context => !IsGrpc(context), http =>
        {
            http.UseExceptionHandler(errors => errors.Run(async context =>
            {
                var error = context.Features.Get<IExceptionHandlerFeature>()?.Error ?? new InvalidOperationException("unknown error");
                await ApiError.From(error).ExecuteAsync(context).ConfigureAwait(false);
            }));
            http.UseStatusCodePages(async status =>
            {
                var context = status.HttpContext;
                if (context.Response.StatusCode == 404 && !context.Response.HasStarted && context.Response.ContentLength is null)
                {
                    await ApiError.Result(404, "not_found", $"no route for {context.Request.Method} {context.Request.Path}").ExecuteAsync(context).ConfigureAwait(false);
                }
                else if (context.Response.StatusCode == 405)
                {
                    await ApiError.Result(405, "method_not_allowed", $"{context.Request.Method} is not allowed on {context.Request.Path}").ExecuteAsync(context).ConfigureAwait(false);
                }
            });
            http.UseMiddleware<HttpClientErrors>();
            http.UseMiddleware<HttpOperationMetrics>();
        });
        app.UseMiddleware<ClientIdentityMiddleware>(); // the TLS client certificate's CN (Security/ClientIdentity), for both front doors
        app.UseMiddleware<HttpAuthMiddleware>(); // auth on: credentials and the route's access (Security/Auth); gRPC is left to GrpcAuthInterceptor
    }

    /// <summary>A gRPC call (content type <c>application/grpc</c>, with or without a <c>+proto</c> suffix).</summary>
    public static bool IsGrpc(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return context.Request.ContentType?.StartsWith("application/grpc", StringComparison.Ordinal) == true;
    }

    /// <summary>Marks a route as a write: on a follower it is forwarded to the leader.</summary>
    public static RouteHandlerBuilder ForwardToLeader(this RouteHandlerBuilder route) => HttpLeaderForwarder.ForwardToLeader(route);
}
