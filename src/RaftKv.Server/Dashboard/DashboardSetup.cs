namespace RaftKv.Server.Dashboard;

/// <summary>
/// The web dashboard (docs/operations.md, "Dashboard"; docs/architecture.md, "Dashboard"): static pages
/// at <c>/ui/</c> and the three read endpoints they need beyond the existing HTTP API —
/// <c>GET /cluster/overview</c> (<see cref="ClusterOverview"/>), <c>GET /stats/load</c>
/// (<see cref="LoadSampler"/>) and <c>GET /watch</c> (<see cref="WatchEventStream"/>). Keys are read and
/// written through <c>/kv</c> (forwarded to the leader, linearizable reads), so the dashboard adds no
/// write path of its own. Handlers are thin and errors go through the HTTP pipeline like /kv's.
/// </summary>
public static class DashboardSetup
{
    public static IServiceCollection AddDashboard(this IServiceCollection services)
    {
        services.AddSingleton<DashboardAssets>();
        services.AddSingleton(sp => new LoadSampler(TimeProvider.System));
        services.AddSingleton<ClusterOverview>();
        return services;
    }

    public static void MapDashboard(this WebApplication app)
    {
        _ = app.Services.GetRequiredService<LoadSampler>(); // starts listening now, not on the first /stats/load

        // One route for /ui and /ui/…: /ui (no slash) redirects so the pages' relative URLs resolve under /ui/.
        app.MapGet("/ui/{**path}", (HttpContext ctx, string? path, DashboardAssets assets)
            => ctx.Request.Path.Value == "/ui" ? Results.Redirect("/ui/") : assets.Serve(ctx, path));
        app.MapGet("/cluster/overview", async (HttpContext ctx, ClusterOverview overview) => Results.Json(await overview.GetAsync(ctx).ConfigureAwait(false)));
        app.MapGet("/stats/load", (HttpContext ctx, LoadSampler load) =>
        {
            var seconds = ctx.Request.Query.TryGetValue("seconds", out var s)
                ? int.TryParse(s, System.Globalization.CultureInfo.InvariantCulture, out var n) && n > 0 ? n : throw new ArgumentException("seconds must be a positive integer")
                : 300;
            return Results.Json(load.Snapshot(seconds));
        });
        app.MapGet("/watch", WatchEventStream.RunAsync);
    }
}
